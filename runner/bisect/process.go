package bisect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/regen-dev/regen/runner/target"
)

// process is a target that runs a command line (the candidate's executor)
// in a folder, on a free loopback port, and stops it by process group.
type process struct {
	command string // with {addr}, {port}, {output}, {input}, {temp}
	dir     string
	work    string
	log     io.Writer
	ready   time.Duration

	cmd  *exec.Cmd
	base string
	done chan error
}

var _ target.Target = (*process)(nil)

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (p *process) Start(ctx context.Context) ([]target.Endpoint, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	dirs := map[string]string{}
	for _, d := range []string{"output", "input", "temp"} {
		dirs[d] = p.work + "/" + d
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			return nil, fmt.Errorf("create executor folder: %w", err)
		}
	}
	line := strings.NewReplacer("{addr}", addr, "{port}", port, "{output}", dirs["output"],
		"{input}", dirs["input"], "{temp}", dirs["temp"]).Replace(p.command)
	cmd := exec.Command("sh", "-c", "exec "+line)
	cmd.Dir, cmd.Stdout, cmd.Stderr = p.dir, p.log, p.log
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start executor %q: %w", line, err)
	}
	p.cmd, p.base, p.done = cmd, "http://"+addr, make(chan error, 1)
	go func() { p.done <- cmd.Wait() }()
	wait := p.ready
	if wait <= 0 {
		wait = time.Minute
	}
	deadline := time.Now().Add(wait)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if _, err := target.SystemStats(ctx, hc, p.base); err == nil {
			return []target.Endpoint{{Name: "candidate", URL: p.base}}, nil
		}
		select {
		case err := <-p.done:
			p.cmd = nil
			return nil, fmt.Errorf("executor %q exited before it answered: %v: %w", line, err, target.ErrUnreachable)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("executor %q did not answer /system_stats within %s: %w", line, wait, target.ErrUnreachable)
		}
	}
}

func (p *process) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	return target.SystemStats(ctx, &http.Client{Timeout: 10 * time.Second}, p.base)
}

func (p *process) Describe() string { return "bisect candidate (" + p.command + ")" }

// Close stops the executor: SIGTERM to its process group, SIGKILL after 10 s.
func (p *process) Close() error {
	if p.cmd == nil {
		return nil
	}
	pgid := p.cmd.Process.Pid
	_ = signalGroup(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = signalGroup(pgid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
	return nil
}

var errNoCases = errors.New("no case selected")
