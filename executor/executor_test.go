package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestNewDefaultsServeBuiltinNodesOnCPU(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x, err := executor.New(executor.Options{Models: dir + "/models", Input: dir + "/in", Output: dir + "/out", Temp: dir + "/tmp", Logger: quiet()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	var stats struct {
		Regen struct {
			Backend string `json:"backend"`
			Nodes   int    `json:"nodes"`
		} `json:"regen"`
	}
	getJSON(t, base+"/system_stats", &stats)
	if stats.Regen.Backend != "cpu" || stats.Regen.Nodes < 10 {
		t.Errorf("system_stats regen = %+v, want the cpu backend and the built-in nodes", stats.Regen)
	}
	var info map[string]json.RawMessage
	getJSON(t, base+"/object_info/KSampler", &info)
	if _, ok := info["KSampler"]; !ok {
		t.Errorf("/object_info/KSampler = %v, want the built-in KSampler", info)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Serve did not return")
	}
	if err := x.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}

// closeCounter is a backend whose Close is counted.
type closeCounter struct {
	backend.Backend
	closed *int
}

func (c closeCounter) Close() error { *c.closed++; return nil }

func TestNewReportsWhatItCouldNotBuild(t *testing.T) {
	t.Parallel()
	errNodes := errors.New("no nodes today")
	errDevice := errors.New("no device today")
	tests := []struct {
		name     string
		registry executor.RegistryFunc
		backend  executor.BackendFunc
		want     error
		wantMsg  string
	}{
		{
			name:     "registry",
			registry: func() (*node.Registry, error) { return nil, errNodes },
			want:     errNodes, wantMsg: "build node registry",
		},
		{
			name:    "backend",
			backend: func() (backend.Backend, error) { return nil, errDevice },
			want:    errDevice, wantMsg: "start backend",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := executor.New(executor.Options{Models: dir, Registry: tc.registry, Backend: tc.backend, Logger: quiet()})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("New = %v, want %q wrapping %v", err, tc.wantMsg, tc.want)
			}
		})
	}
}

func TestCloseReleasesTheBackendOnce(t *testing.T) {
	t.Parallel()
	closed := 0
	dir := t.TempDir()
	x, err := executor.New(executor.Options{
		Models: dir, Input: dir + "/in", Output: dir + "/out", Temp: dir + "/tmp", Logger: quiet(),
		Backend: func() (backend.Backend, error) {
			be, err := executor.CPUFromDefault()
			return closeCounter{Backend: be, closed: &closed}, err
		},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for range 2 {
		if err := x.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if closed != 1 {
		t.Errorf("backend closed %d times, want 1", closed)
	}
}

// TestImportRules checks the rooms' import rules with go list: the engine
// knows no HTTP, the local target reaches the executor through this front
// only, and a -tags cuda build links CUDA (gorgonia) into regen-executor
// and never into the regen CLI.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	t.Parallel()
	goList := func(args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	has := func(list []string, pred func(string) bool) []string {
		var hits []string
		for _, p := range list {
			if pred(p) {
				hits = append(hits, p)
			}
		}
		return hits
	}
	if hits := has(goList("-deps", "./executor/engine"), func(p string) bool { return p == "net/http" }); len(hits) > 0 {
		t.Errorf("executor/engine depends on %v", hits)
	}
	for _, pkg := range []string{"./executor/engine", "./executor/server"} {
		if hits := has(goList("-deps", pkg), func(p string) bool {
			return strings.HasPrefix(p, "github.com/regen-dev/regen/executor/backend/") || strings.HasSuffix(p, "/executor/nodes")
		}); len(hits) > 0 {
			t.Errorf("%s depends on a backend implementation or the built-in nodes: %v", pkg, hits)
		}
	}
	imports := goList("-f", `{{join .Imports " "}}`, "./runner/target/local")
	if hits := has(imports, func(p string) bool {
		return strings.HasPrefix(p, "github.com/regen-dev/regen/executor/")
	}); len(hits) > 0 {
		t.Errorf("runner/target/local imports %v; it should import only github.com/regen-dev/regen/executor", hits)
	}
	if hits := has(goList("-tags", "cuda", "-deps", "./cmd/regen"), func(p string) bool { return strings.Contains(p, "gorgonia") }); len(hits) > 0 {
		t.Errorf("-tags cuda: cmd/regen depends on %v", hits)
	}
}
