package kube

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// fakeCmder is a hand-written Cmder: it runs nothing, records every command
// and signal in order, answers one-shot commands from run, and lets start
// play a component (serve a port, fail, exit at once).
type fakeCmder struct {
	// run answers Output and CombinedOutput (nil: empty output, no error).
	run func(name string, args []string) ([]byte, error)
	// start is called by Start (nil: the component starts and runs).
	start func(c *fakeCmd) error

	mu     sync.Mutex
	events []string
	cmds   []*fakeCmd
	pid    int
}

var _ Cmder = (*fakeCmder)(nil)

func (f *fakeCmder) Command(_ context.Context, name string, args ...string) Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &fakeCmd{f: f, name: filepath.Base(name), path: name, args: args, done: make(chan struct{})}
	f.cmds = append(f.cmds, c)
	return c
}

func (f *fakeCmder) record(ev string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

// Events returns what happened, in order: "start etcd", "run ip link add …",
// "signal kube-apiserver terminated".
func (f *fakeCmder) Events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// Filter returns the events that start with prefix, prefix removed.
func (f *fakeCmder) Filter(prefix string) []string {
	var out []string
	for _, e := range f.Events() {
		if rest, ok := strings.CutPrefix(e, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// Started returns the started command named name (nil if none).
func (f *fakeCmder) Started(name string) *fakeCmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cmds {
		if c.name == name && c.pid != 0 {
			return c
		}
	}
	return nil
}

// fakeCmd is one command of a fakeCmder.
type fakeCmd struct {
	f          *fakeCmder
	name, path string
	args       []string
	env        []string
	dir        string
	stdout     io.Writer

	pid int
	// IgnoreTERM makes a started component ignore SIGTERM (only SIGKILL
	// stops it).
	IgnoreTERM bool
	// OnExit runs once when the component exits (stop its fake servers).
	OnExit   func()
	exitErr  error
	done     chan struct{}
	exitOnce sync.Once
}

func (c *fakeCmd) SetEnv(env []string) Cmd   { c.env = env; return c }
func (c *fakeCmd) SetDir(dir string) Cmd     { c.dir = dir; return c }
func (c *fakeCmd) SetStdout(w io.Writer) Cmd { c.stdout = w; return c }
func (c *fakeCmd) SetStderr(io.Writer) Cmd   { return c }

func (c *fakeCmd) line() string { return strings.TrimSpace(c.name + " " + strings.Join(c.args, " ")) }

func (c *fakeCmd) Output() ([]byte, error) {
	c.f.record("run " + c.line())
	if c.f.run == nil {
		return nil, nil
	}
	return c.f.run(c.name, c.args)
}

func (c *fakeCmd) CombinedOutput() ([]byte, error) { return c.Output() }

func (c *fakeCmd) Start() error {
	if c.f.start != nil {
		if err := c.f.start(c); err != nil {
			c.f.record("failed " + c.name)
			return err
		}
	}
	c.f.mu.Lock()
	c.f.pid++
	c.pid = 1000 + c.f.pid
	c.f.mu.Unlock()
	c.f.record("start " + c.name)
	return nil
}

func (c *fakeCmd) Wait() error { <-c.done; return c.exitErr }

func (c *fakeCmd) Pid() int { return c.pid }

// Exit ends the component as if it had exited with err.
func (c *fakeCmd) Exit(err error) {
	c.exitOnce.Do(func() {
		c.exitErr = err
		if c.OnExit != nil {
			c.OnExit()
		}
		close(c.done)
	})
}

func (c *fakeCmd) Signal(sig os.Signal) error {
	select {
	case <-c.done:
		return os.ErrProcessDone
	default:
	}
	c.f.record("signal " + c.name + " " + sig.String())
	if sig == syscall.SIGKILL || !c.IgnoreTERM {
		c.Exit(errors.New("signal: " + sig.String()))
	}
	return nil
}

// Arg returns the value of the first --name=value argument ("" if none).
func (c *fakeCmd) Arg(name string) string {
	for _, a := range c.args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// Has reports whether the command has the argument a.
func (c *fakeCmd) Has(a string) bool {
	for _, x := range c.args {
		if x == a {
			return true
		}
	}
	return false
}
