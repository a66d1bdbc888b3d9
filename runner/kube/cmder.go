package kube

import (
	"context"
	"io"
	"os"
	"os/exec"
	"syscall"
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

// Command returns an os/exec command bound to ctx.
func (ExecCmder) Command(ctx context.Context, name string, args ...string) Cmd {
	return &execCmd{cmd: exec.CommandContext(ctx, name, args...)}
}

type execCmd struct{ cmd *exec.Cmd }

func (c *execCmd) SetEnv(env []string) Cmd   { c.cmd.Env = env; return c }
func (c *execCmd) SetDir(dir string) Cmd     { c.cmd.Dir = dir; return c }
func (c *execCmd) SetStdout(w io.Writer) Cmd { c.cmd.Stdout = w; return c }
func (c *execCmd) SetStderr(w io.Writer) Cmd { c.cmd.Stderr = w; return c }
func (c *execCmd) Output() ([]byte, error)   { return c.cmd.Output() }

func (c *execCmd) CombinedOutput() ([]byte, error) { return c.cmd.CombinedOutput() }

// Start starts the process in its own process group, so that a Ctrl-C to
// the caller does not race an ordered stop, with Pdeathsig SIGKILL: if the
// process that started it dies without stopping it (a test binary killed by
// -timeout, a SIGKILLed run), the kernel kills the component instead of
// leaving it running. SIGKILL, not SIGTERM: with nobody left to stop them in
// order, a kube-apiserver whose etcd died at the same moment hangs in its
// graceful shutdown for minutes. (It fires when the forking OS thread exits;
// the Go runtime does not retire threads unless a locked goroutine exits.)
func (c *execCmd) Start() error {
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Components outlive the context they were started under: Down stops
	// them by PID. Cancel would kill them mid-flight.
	c.cmd.Cancel = func() error { return nil }
	return c.cmd.Start()
}

func (c *execCmd) Wait() error { return c.cmd.Wait() }

func (c *execCmd) Pid() int {
	if c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func (c *execCmd) Signal(sig os.Signal) error {
	if c.cmd.Process == nil {
		return os.ErrProcessDone
	}
	return c.cmd.Process.Signal(sig)
}
