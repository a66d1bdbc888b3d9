package kube

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestExecCmder runs real programs: one-shot commands see their env and dir
// and are bound to ctx; a started component outlives the ctx it was started
// under and stops on a signal.
func TestExecCmder(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	out, err := ExecCmder{}.Command(context.Background(), "sh", "-c", "echo $X; pwd").SetEnv([]string{"X=42"}).SetDir(dir).Output()
	if err != nil || string(out) != "42\n"+dir+"\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	out, err = ExecCmder{}.Command(context.Background(), "sh", "-c", "echo out; echo err >&2; exit 3").CombinedOutput()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 3 || !strings.Contains(string(out), "err") {
		t.Errorf("CombinedOutput = %q, %v", out, err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (ExecCmder{}).Command(done, "true").Output(); err == nil {
		t.Error("a one-shot command ran under a done context")
	}
	if err := (ExecCmder{}).Command(done, "sleep", "30").Start(); err == nil {
		t.Error("a component started under a done context")
	}

	ctx, cancel := context.WithCancel(context.Background())
	var log bytes.Buffer
	c := ExecCmder{}.Command(ctx, "sleep", "30").SetStdout(&log)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if c.Pid() <= 0 {
		t.Fatalf("Pid = %d", c.Pid())
	}
	cancel() // the component is not bound to it
	if err := c.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("component gone after its start context ended: %v", err)
	}
	if pgid, err := syscall.Getpgid(c.Pid()); err != nil || pgid != c.Pid() {
		t.Errorf("process group = %d, %v; want its own (%d)", pgid, err, c.Pid())
	}
	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("Wait = %v, want terminated by the signal", err)
	}
}
