// Package local implements regen's default target: the built-in executor
// (package executor, regen-executor's front for in-process use) served on
// loopback, one or more replicas, each with its own input, output and temp
// folders under the run directory and the fixture models. It needs nothing
// installed, and it imports no executor package but the front.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/runner/target"
)

// Options configure the local target.
type Options struct {
	// Models is the models directory (checkpoints/, loras/).
	Models string
	// WorkDir receives each replica's folders (executor-<i>/{input,
	// output,temp}); typically the run directory.
	WorkDir string
	// Replicas is the number of in-process servers (default 1).
	Replicas int
	// Registry builds a replica's node registry (default: every built-in
	// node). Called once per replica: nodes may keep per-instance state.
	// Tests wrap a node class here to inject faults.
	Registry executor.RegistryFunc
	// Backend builds a replica's compute backend (default: the CPU
	// backend).
	Backend executor.BackendFunc
	// Logger receives the servers' logs (default slog.Default()).
	Logger *slog.Logger
}

// Target is the in-process executor.
type Target struct {
	opts    Options
	log     *slog.Logger
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	eps     []target.Endpoint
	execs   []*executor.Instance
	serveMu sync.Mutex
	errs    []error
}

var _ target.Target = (*Target)(nil)

// New returns a local target; Start starts it.
func New(opts Options) *Target {
	if opts.Replicas < 1 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Target{opts: opts, log: opts.Logger.With("component", "local-target")}
}

// Start serves Replicas executors on 127.0.0.1 (ephemeral ports) until
// Close, and returns their endpoints once each answers /system_stats.
func (t *Target) Start(ctx context.Context) ([]target.Endpoint, error) {
	if t.cancel != nil {
		return t.eps, nil
	}
	if st, err := os.Stat(t.opts.Models); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("start local executor: models directory %q: %w (run `make fixtures`, or pass --models)", t.opts.Models, target.ErrUnreachable)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	for i := 0; i < t.opts.Replicas; i++ {
		ep, err := t.startOne(sctx, i)
		if err != nil {
			_ = t.Close()
			return nil, err
		}
		t.eps = append(t.eps, ep)
	}
	for _, ep := range t.eps {
		if err := waitReady(ctx, ep.URL); err != nil {
			_ = t.Close()
			return nil, err
		}
	}
	return t.eps, nil
}

func (t *Target) startOne(ctx context.Context, i int) (target.Endpoint, error) {
	base := filepath.Join(t.opts.WorkDir, fmt.Sprintf("executor-%d", i))
	opts := executor.Options{
		Models:        t.opts.Models,
		Input:         filepath.Join(base, "input"),
		Output:        filepath.Join(base, "output"),
		Temp:          filepath.Join(base, "temp"),
		Registry:      t.opts.Registry,
		Backend:       t.opts.Backend,
		Logger:        t.opts.Logger.With("replica", i),
		ShutdownGrace: 2 * time.Second,
	}
	for _, d := range []string{opts.Input, opts.Output, opts.Temp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return target.Endpoint{}, fmt.Errorf("create executor folder: %w", err)
		}
	}
	srv, err := executor.New(opts)
	if err != nil {
		return target.Endpoint{}, fmt.Errorf("create executor: %w", err)
	}
	t.execs = append(t.execs, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return target.Endpoint{}, fmt.Errorf("listen on loopback: %w", err)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
			t.log.Error("executor stopped", "replica", i, "err", err)
			t.serveMu.Lock()
			t.errs = append(t.errs, err)
			t.serveMu.Unlock()
		}
	}()
	return target.Endpoint{Name: fmt.Sprintf("local-%d", i), URL: "http://" + ln.Addr().String()}, nil
}

func waitReady(ctx context.Context, base string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := target.SystemStats(ctx, hc, base)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("wait for local executor: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Fingerprint returns the first replica's /system_stats.
func (t *Target) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	if len(t.eps) == 0 {
		return nil, fmt.Errorf("fingerprint local executor: %w: not started", target.ErrUnreachable)
	}
	return target.SystemStats(ctx, &http.Client{Timeout: 10 * time.Second}, t.eps[0].URL)
}

// Describe names the target.
func (t *Target) Describe() string {
	if t.opts.Replicas == 1 {
		return "local"
	}
	return fmt.Sprintf("local x%d", t.opts.Replicas)
}

// Close stops every replica and waits for them.
func (t *Target) Close() error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	t.wg.Wait()
	var errs []error
	for _, x := range t.execs {
		errs = append(errs, x.Close())
	}
	t.execs = nil
	t.serveMu.Lock()
	errs = append(errs, t.errs...)
	t.serveMu.Unlock()
	return errors.Join(errs...)
}
