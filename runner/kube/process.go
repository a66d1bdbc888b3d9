package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// process is one control-plane component started by Up.
type process struct {
	name string
	cmd  Cmd
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
	// Own process group, killed if this process dies without Down: see
	// ExecCmder's Start.
	cmd := c.cmder.Command(ctx, bin, args...).SetStdout(f).SetStderr(f).SetDir(c.StateDir).SetEnv(env)
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
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Pid())+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("start %s: write pid: %w", name, err)
	}
	c.log.Debug("started", "component", name, "pid", cmd.Pid())
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
	if err := p.cmd.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.cmd.Pid(), err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	if err := p.cmd.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, p.cmd.Pid(), err)
	}
	<-p.done
	return nil
}
