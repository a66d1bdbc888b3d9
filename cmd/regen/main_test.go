package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool is the go command, or a skip.
func goTool(t *testing.T) string {
	t.Helper()
	g := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(g); err != nil {
		if g, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build with")
		}
	}
	return g
}

// TestFastBuildLinksNoClusterPackages: the regenfast build (bin/regen)
// links none of the packages whose initialisation made every process
// slow to start; a new command file without the !regenfast constraint
// that brings them back fails here.
func TestFastBuildLinksNoClusterPackages(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(goTool(t), "list", "-tags", "regenfast", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	heavy := []string{"k8s.io/", "sigs.k8s.io/", "modernc.org/", "github.com/prometheus/", "github.com/jackc/",
		"github.com/regen-dev/regen/runner", "github.com/regen-dev/regen/executor"}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, h := range heavy {
			if strings.HasPrefix(d, h) {
				t.Errorf("the fast build links %s", d)
			}
		}
	}
	if len(deps) > 200 {
		t.Errorf("the fast build links %d packages; it linked 127 when written", len(deps))
	}
}

// TestFastBuildForwards: the fast build runs compare itself and executes
// regen-full, next to it, for every other command with the same
// arguments, streams and exit status; without regen-full it says what to
// build.
func TestFastBuildForwards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds regen (-short)")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in full build is a shell script")
	}
	t.Parallel()
	dir := t.TempDir()
	fast := filepath.Join(dir, "regen")
	if out, err := exec.Command(goTool(t), "build", "-tags", "regenfast", "-o", fast, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(fast, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), stdout.String(), stderr.String()
		}
		t.Fatalf("run %v: %v", args, err)
		return 0, "", ""
	}

	code, _, stderr := run("run", "--env", "local")
	if code != 2 || !strings.Contains(stderr, "regen-full") || !strings.Contains(stderr, "make build") {
		t.Errorf("without regen-full: exit %d, stderr %q; want 2 and what to build", code, stderr)
	}

	full := "#!/bin/sh\necho \"full: $*\"\necho \"to stderr\" >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, fullName), []byte(full), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run", "--env", "local", "a b"}, {"version"}, {"--help"}, {}} {
		code, stdout, stderr := run(args...)
		if want := "full: " + strings.Join(args, " ") + "\n"; code != 3 || stdout != want || stderr != "to stderr\n" {
			t.Errorf("regen %q: exit %d, stdout %q, stderr %q; want 3, %q from regen-full", args, code, stdout, stderr, want)
		}
	}
	code, stdout, stderr := run("compare", "only-one.png")
	if code != 2 || strings.Contains(stdout, "full:") || !strings.Contains(stderr, "compare needs GOLDEN and OUTPUT") {
		t.Errorf("compare run by the fast build: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
