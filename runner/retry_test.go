package runner_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"

	"github.com/regen-dev/regen/internal/testutil"
)

const traceback = "Traceback (most recent call last):\n  File \"execution.py\", line 9, in run\nRuntimeError: CUDA error: device busy"

// failingPrompt starts a local executor behind a proxy that answers POST
// /prompt with a 500 and a traceback while fail(n) is true (n counts the
// POSTs from 1), and returns the proxy as a URL target.
func failingPrompt(t *testing.T, fail func(n int32) bool) target.Target {
	t.Helper()
	srv := local.New(local.Options{Models: emptyModels(t), WorkDir: t.TempDir(), Logger: testutil.Logger()})
	eps, err := srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	u, err := url.Parse(eps[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var posts atomic.Int32
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.TrimPrefix(r.URL.Path, "/api") == "/prompt" && fail(posts.Add(1)) {
			http.Error(w, traceback, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	tgt, err := target.NewURL(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

func TestPrompt500IsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	tgt := failingPrompt(t, func(n int32) bool { return n == 1 })
	rec, _, err := doRun(t, runConfig{goldenDir: t.TempDir(), target: tgt, conc: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Cases[0]
	if c.Verdict == report.Error || c.Attempts != 2 || len(c.Retried) != 1 || !strings.Contains(c.Retried[0], "500") {
		t.Fatalf("%s: %s %q, attempts %d, retried %q; want a retried 500", c.ID, c.Verdict, c.Error, c.Attempts, c.Retried)
	}
	// The retry waited (DefaultRetryBackoff) before replaying.
	if c.ReplaySeconds < 0.45 {
		t.Errorf("replay took %.2fs: the retry did not back off", c.ReplaySeconds)
	}
}

func TestMultiLineErrorShownUnderItsCase(t *testing.T) {
	t.Parallel()
	tgt := failingPrompt(t, func(int32) bool { return true })
	rec, _, err := doRun(t, runConfig{goldenDir: t.TempDir(), target: tgt, conc: 1, noRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Cases[0]
	if c.Verdict != report.Error || !strings.Contains(c.Error, "500 Internal Server Error:\n  Traceback") {
		t.Fatalf("%s: %s %q; want the 500's body on its own lines", c.ID, c.Verdict, c.Error)
	}
	var buf bytes.Buffer
	report.Terminal(&buf, rec, "")
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "ERROR  "+c.ID+" ") {
			if i+3 >= len(lines) || !strings.HasPrefix(lines[i+3], "         RuntimeError: CUDA error: device busy") {
				t.Errorf("the traceback is not indented under its case:\n%s", buf.String())
			}
			return
		}
	}
	t.Errorf("no line for %s:\n%s", c.ID, buf.String())
}

// TestExecutorDiesMidCase: the executor's connections are cut while a case
// runs and it refuses new ones: that case's error names the dropped
// connection (not the retries' failure to reach the executor), and the
// cases after it say where it was dropped.
func TestExecutorDiesMidCase(t *testing.T) {
	t.Parallel()
	srv := local.New(local.Options{Models: emptyModels(t), WorkDir: t.TempDir(), Logger: testutil.Logger()})
	eps, err := srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	u, _ := url.Parse(eps[0].URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var posts atomic.Int32
	var ps *httptest.Server
	ps = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.TrimPrefix(r.URL.Path, "/api") == "/prompt" && posts.Add(1) == 2 {
			// The second prompt is accepted, then the executor dies.
			proxy.ServeHTTP(w, r)
			go func() {
				_ = ps.Listener.Close()
				ps.CloseClientConnections()
			}()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	tgt, _ := target.NewURL(ps.URL)
	rec, _, err := doRun(t, runConfig{goldenDir: t.TempDir(), target: tgt, conc: 1})
	if err != nil {
		t.Fatal(err)
	}
	var errs []report.Case
	for _, c := range rec.Cases {
		if c.Verdict == report.Error {
			errs = append(errs, c)
		}
	}
	if len(errs) < 2 {
		t.Fatalf("%d error cases, want the one running and those after", len(errs))
	}
	head, _, _ := strings.Cut(errs[0].Error, "\n")
	if !strings.Contains(head, "the executor dropped the connection") {
		t.Errorf("%s: %q does not name the dropped connection first", errs[0].ID, errs[0].Error)
	}
	for _, c := range errs[1:] {
		if !strings.Contains(c.Error, "dropped the connection during "+errs[0].ID) {
			t.Errorf("%s: %q does not say where the executor dropped the connection", c.ID, c.Error)
		}
	}
}
