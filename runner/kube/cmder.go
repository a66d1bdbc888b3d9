package kube

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
)

// Cmder makes the commands this package runs: every control-plane component,
// the host node's containerd and kubelet, and the one-shot programs (ip, ctr,
// nft). ExecCmder runs them for real; tests pass a fake and check the
// sequences (which program, with which arguments, in which order).
type Cmder interface {
	Command(ctx context.Context, name string, args ...string) Cmd
}

// Cmd is one command. Configure it with the setters, then either run it to
// completion (Output, CombinedOutput) or Start it and Wait for it; Pid and
// Signal act on a started command.
type Cmd interface {
	SetEnv(env []string) Cmd // nil: this process's environment
	SetDir(dir string) Cmd
	SetStdout(w io.Writer) Cmd
	SetStderr(w io.Writer) Cmd
	Output() ([]byte, error)
	CombinedOutput() ([]byte, error)
	// Start starts a long-running component in its own process group, to be
	// killed by the kernel if the calling OS thread dies (see ExecCmder).
	Start() error
	Wait() error
	Pid() int
	Signal(sig os.Signal) error
}

// ExecCmder runs commands with os/exec.
type ExecCmder struct{}

var _ Cmder = ExecCmder{}

// Command returns an os/exec command. Run to completion (Output,
// CombinedOutput), it is bound to ctx; started, it is not (see Start).
func (ExecCmder) Command(ctx context.Context, name string, args ...string) Cmd {
	return &execCmd{ctx: ctx, name: name, args: args}
}

type execCmd struct {
	ctx            context.Context
	name           string
	args, env      []string
	dir            string
	stdout, stderr io.Writer
	cmd            *exec.Cmd // made by Output, CombinedOutput or Start
}

func (c *execCmd) SetEnv(env []string) Cmd   { c.env = env; return c }
func (c *execCmd) SetDir(dir string) Cmd     { c.dir = dir; return c }
func (c *execCmd) SetStdout(w io.Writer) Cmd { c.stdout = w; return c }
func (c *execCmd) SetStderr(w io.Writer) Cmd { c.stderr = w; return c }

func (c *execCmd) make(cmd *exec.Cmd) *exec.Cmd {
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = c.env, c.dir, c.stdout, c.stderr
	c.cmd = cmd
	return cmd
}

func (c *execCmd) Output() ([]byte, error) {
	return c.make(exec.CommandContext(c.ctx, c.name, c.args...)).Output()
}

func (c *execCmd) CombinedOutput() ([]byte, error) {
	return c.make(exec.CommandContext(c.ctx, c.name, c.args...)).CombinedOutput()
}

// Start starts a component that outlives ctx (Down stops it by PID), in its
// own process group, so that a Ctrl-C to the caller does not race an ordered
// stop, with Pdeathsig SIGKILL: if the process that started it dies without
// stopping it (a test binary killed by -timeout, a SIGKILLed run), the
// kernel kills the component instead of leaving it running. SIGKILL, not
// SIGTERM: with nobody left to stop them in order, a kube-apiserver whose
// etcd died at the same moment hangs in its graceful shutdown for minutes.
// (It fires when the forking OS thread exits; the Go runtime does not retire
// threads unless a locked goroutine exits.)
func (c *execCmd) Start() error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	cmd := c.make(exec.Command(c.name, c.args...))
	cmd.SysProcAttr = procAttr()
	return cmd.Start()
}

func (c *execCmd) Wait() error {
	if c.cmd == nil {
		return errors.New("wait: command not started")
	}
	return c.cmd.Wait()
}

func (c *execCmd) Pid() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func (c *execCmd) Signal(sig os.Signal) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return os.ErrProcessDone
	}
	return c.cmd.Process.Signal(sig)
}
