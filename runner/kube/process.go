package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// process is one control-plane component started by Up.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// start runs bin with args, output to <state>/logs/<name>.log and its PID in
// <state>/<name>.pid. The process outlives ctx: Down stops it.
func (c *Cluster) start(ctx context.Context, name, bin string, args ...string) error {
	_, err := c.startEnv(ctx, name, nil, bin, args...)
	return err
}

// startEnv is start with an environment (nil: this process's).
func (c *Cluster) startEnv(ctx context.Context, name string, env []string, bin string, args ...string) (*process, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, context.Cause(ctx))
	}
	f, err := os.Create(filepath.Join(c.StateDir, "logs", name+".log"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = c.StateDir
	cmd.Env = env
	// Own process group: a Ctrl-C to the test does not race Down's ordered stop.
	// Pdeathsig: if the process that called Up dies without Down (a test
	// binary killed by -timeout, a SIGKILLed run), the kernel kills the
	// component instead of leaving it running. SIGKILL, not SIGTERM: with
	// nobody left to stop them in order, a kube-apiserver whose etcd died
	// at the same moment hangs in its graceful shutdown for minutes. (It
	// fires when the forking OS thread exits; the Go runtime does not retire
	// threads unless a locked goroutine exits.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	pidFile := filepath.Join(c.StateDir, name+".pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("start %s: write pid: %w", name, err)
	}
	c.log.Debug("started", "component", name, "pid", cmd.Process.Pid)
	return p, nil
}

// exited reports whether the process has already stopped, with its error.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	defer func() { _ = p.log.Close() }()
	if done, _ := p.exited(); done {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	<-p.done
	return nil
}
