package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/executor/server"
)

// RegistryFunc builds the node classes of one executor. It is called once
// per executor: nodes may keep per-instance state.
type RegistryFunc func() (*node.Registry, error)

// BackendFunc builds the compute backend of one executor.
type BackendFunc func() (backend.Backend, error)

// builtin is the default RegistryFunc: every built-in node class.
func builtin() (*node.Registry, error) { return node.NewRegistry(nodes.Builtin()...) }

// cpuBackend is the default BackendFunc: the bit-deterministic CPU backend.
func cpuBackend() (backend.Backend, error) { return cpu.New(), nil }

// Options configure an in-process executor.
type Options struct {
	// Models is the models folder (checkpoints/, loras/, vae/).
	Models string
	// Input, Output and Temp are the executor's folders; created if
	// missing.
	Input, Output, Temp string
	// Registry builds the node classes; nil → every built-in node class.
	// Tests wrap a node class here to inject faults.
	Registry RegistryFunc
	// Backend builds the compute backend; nil → the CPU backend.
	Backend BackendFunc
	// Logger receives the executor's logs; nil → slog.Default().
	Logger *slog.Logger
	// ShutdownGrace is how long Serve lets a running prompt finish after
	// its ctx is done before interrupting it; 0 → the server's default
	// (10s).
	ShutdownGrace time.Duration
}

// Instance is one in-process executor: a server, its node classes and its
// backend.
type Instance struct {
	srv *server.Server
	be  backend.Backend
}

// New builds the node classes and the backend, creates the folders and
// returns an executor ready to Serve. Close releases its backend.
func New(opts Options) (*Instance, error) {
	if opts.Registry == nil {
		opts.Registry = builtin
	}
	if opts.Backend == nil {
		opts.Backend = cpuBackend
	}
	reg, err := opts.Registry()
	if err != nil {
		return nil, fmt.Errorf("build node registry: %w", err)
	}
	be, err := opts.Backend()
	if err != nil {
		return nil, fmt.Errorf("start backend: %w", err)
	}
	srv, err := server.New(server.Options{
		Dirs:          node.Dirs{Models: opts.Models, Input: opts.Input, Output: opts.Output, Temp: opts.Temp},
		Backend:       be,
		Registry:      reg,
		Logger:        opts.Logger,
		ShutdownGrace: opts.ShutdownGrace,
	})
	if err != nil {
		return nil, errors.Join(err, be.Close())
	}
	return &Instance{srv: srv, be: be}, nil
}

// Serve serves the executor's API on ln until ctx is done, then shuts down
// gracefully and returns nil (see server.Server.Serve).
func (x *Instance) Serve(ctx context.Context, ln net.Listener) error { return x.srv.Serve(ctx, ln) }

// Close releases the backend. Call it after Serve has returned.
func (x *Instance) Close() error {
	if x.be == nil {
		return nil
	}
	err := x.be.Close()
	x.be = nil
	if err != nil {
		return fmt.Errorf("close backend: %w", err)
	}
	return nil
}
