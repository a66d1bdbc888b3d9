package runner_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"
)

// TestExplicitTimeoutBeatsTheSuites: the image suite says timeout: 30s and
// the server never answers POST /prompt; Options.Timeout (an explicit
// --timeout) of 300ms must bound the case, not the suite's 30s.
func TestExplicitTimeoutBeatsTheSuites(t *testing.T) {
	t.Parallel()
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
	stop := make(chan struct{})
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.TrimPrefix(r.URL.Path, "/api") == "/prompt" {
			_, _ = io.Copy(io.Discard, r.Body)
			select { // hangs until the client gives up or the test ends
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	t.Cleanup(func() { close(stop) }) // runs before ps.Close
	tgt, err := target.NewURL(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := suite.Load(imgSuite)
	if err != nil {
		t.Fatal(err)
	}
	if s.CaseTimeout() != 30*time.Second {
		t.Fatalf("suite timeout %v; the test needs the suite's 30s", s.CaseTimeout())
	}
	// Past 10s the suite's timeout would still be running: stop there so
	// that a regression fails rather than hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := runner.Run(ctx, runner.Options{
		Suite: s, SuitePath: imgSuite, Target: tgt, GoldenDir: t.TempDir(), RunDir: filepath.Join(t.TempDir(), "run"),
		Filter: regexp.MustCompile(`^invert`), Timeout: 300 * time.Millisecond, Logger: testutil.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Cases) == 0 {
		t.Fatal("no case ran")
	}
	for _, c := range rec.Cases {
		if c.Verdict != report.Error || c.ReplaySeconds > 5 {
			t.Errorf("%s: %s %q after %.1fs; want an error after about 0.3s (the explicit timeout)", c.ID, c.Verdict, c.Error, c.ReplaySeconds)
		}
	}
}
