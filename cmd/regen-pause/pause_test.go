//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "REGEN_PAUSE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(run(nil, os.Stdout, func() { os.Stdout.WriteString("ready\n") }))
	}
	os.Exit(m.Run())
}

func TestWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sigs      []os.Signal
		wantReaps int
	}{
		{"term", []os.Signal{syscall.SIGTERM, syscall.SIGCHLD}, 0},
		{"children then int", []os.Signal{syscall.SIGCHLD, syscall.SIGCHLD, syscall.SIGINT, syscall.SIGCHLD}, 2},
		{"closed", []os.Signal{syscall.SIGCHLD}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := make(chan os.Signal, len(tt.sigs))
			for _, s := range tt.sigs {
				ch <- s
			}
			close(ch)
			reaps := 0
			if code := wait(ch, func() int { reaps++; return 1 }); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			if reaps != tt.wantReaps {
				t.Errorf("reaped %d times, want %d", reaps, tt.wantReaps)
			}
		})
	}
}

// TestReapAll starts a child without waiting for it and checks that reapAll
// collects the zombie. Not parallel: reapAll waits for any child.
func TestReapAll(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	reaped := 0
	for reaped == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		reaped += reapAll()
	}
	if reaped != 1 {
		t.Fatalf("reapAll reaped %d children, want 1", reaped)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
		t.Errorf("child %d still waitable after reapAll: %v", cmd.Process.Pid, err)
	}
}

// TestProcessStopsOnSignal runs the real signal handling in a child process.
func TestProcessStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line != "ready\n" {
				t.Fatalf("helper said %q, %v", line, err)
			}
			// A SIGCHLD (no child exited) must not stop it.
			if err := cmd.Process.Signal(syscall.SIGCHLD); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("exited on SIGCHLD: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %v: %v, want status 0", sig, err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 10s after %v", sig)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if code := run([]string{"-v"}, &out, nil); code != 0 || !strings.HasPrefix(out.String(), "regen-pause ") {
		t.Errorf("-v: code %d output %q", code, out.String())
	}
	if code := run([]string{"sleep"}, &out, nil); code != 2 {
		t.Errorf("unexpected argument: code %d, want 2", code)
	}
}
