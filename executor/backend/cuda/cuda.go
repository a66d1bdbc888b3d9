//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"

	"gorgonia.org/cu"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cuda/kernelsim"
)

var _ backend.Backend = (*Backend)(nil)

// Backend is the CUDA backend. It is safe for concurrent use; calls are
// serialised on one goroutine that owns the CUDA context on a locked OS
// thread.
type Backend struct {
	log       *slog.Logger
	precision string
	jobs      chan func()
	done      chan struct{} // closed when the worker has torn down

	mu          sync.Mutex // serialises Attention, Fingerprint refresh and Close
	closed      bool
	fp          backend.Fingerprint
	teardownErr error // set by the worker before done is closed

	// Owned by the worker goroutine.
	cuctx   cu.CUContext
	mod     cu.Module
	attn    cu.Function // attn_f32 or attn_tf32
	combine cu.Function
	bufs    [numBufs]devBuf
}

// New creates a context on device opts.Device, loads the kernels and
// returns the backend. Without a usable device (none, ordinal out of range,
// compute capability below 8.0) the error wraps backend.ErrUnavailable.
func New(opts Options) (backend.Backend, error) {
	b, err := newBackend(opts)
	if err != nil {
		return nil, err // an untyped nil, never a nil *Backend in an interface
	}
	return b, nil
}

func newBackend(opts Options) (*Backend, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	prec := opts.Precision
	if prec == "" {
		prec = "fp32"
	}
	if prec != "fp32" && prec != "tf32" {
		return nil, fmt.Errorf("cuda backend: precision %q, want fp32 or tf32", prec)
	}
	b := &Backend{log: log, precision: prec, jobs: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go b.worker(opts.Device, ready)
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("cuda backend: %w", err)
	}
	log.Info("cuda backend ready", "device", b.fp.Device, "driver", b.fp.Driver,
		"precision", b.fp.Precision, "class", b.fp.Class, "vram_total", b.fp.VRAMTotal)
	return b, nil
}

// worker owns the context: it sets up, runs jobs until b.jobs is closed,
// then frees everything.
func (b *Backend) worker(ordinal int, ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(b.done)
	if err := b.setup(ordinal); err != nil {
		b.teardown()
		ready <- err
		return
	}
	ready <- nil
	for job := range b.jobs {
		job()
	}
	b.teardownErr = b.teardown()
}

func (b *Backend) setup(ordinal int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("count devices: %w: %w", backend.ErrUnavailable, err)
	}
	if ordinal < 0 || ordinal >= n {
		return fmt.Errorf("device %d of %d: %w", ordinal, n, backend.ErrUnavailable)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return fmt.Errorf("get device %d: %w", ordinal, err)
	}
	name, err := dev.Name()
	if err != nil {
		return fmt.Errorf("device name: %w", err)
	}
	major, err := dev.Attribute(cu.ComputeCapabilityMajor)
	if err != nil {
		return fmt.Errorf("compute capability: %w", err)
	}
	minor, err := dev.Attribute(cu.ComputeCapabilityMinor)
	if err != nil {
		return fmt.Errorf("compute capability: %w", err)
	}
	target, err := kernelsim.PTXFor(major, minor)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", name, backend.ErrUnavailable, err)
	}
	total, err := dev.TotalMem()
	if err != nil {
		return fmt.Errorf("device memory: %w", err)
	}
	// Blocking sync: the host thread sleeps while the GPU works instead of
	// spinning a core the CPU side of the executor may need.
	if b.cuctx, err = dev.MakeContext(cu.SchedBlockingSync); err != nil {
		return fmt.Errorf("create context: %w", err)
	}
	ptx := ptxSM80
	if target == "sm_90" {
		ptx = ptxSM90
	}
	if b.mod, err = cu.LoadData(ptx); err != nil {
		return fmt.Errorf("load %s module: %w", target, err)
	}
	kernel := "attn_f32"
	if b.precision == "tf32" {
		kernel = "attn_tf32"
	}
	if b.attn, err = b.mod.Function(kernel); err != nil {
		return fmt.Errorf("kernel %s: %w", kernel, err)
	}
	if b.combine, err = b.mod.Function("attn_combine"); err != nil {
		return fmt.Errorf("kernel attn_combine: %w", err)
	}
	free, _, err := cu.MemInfo()
	if err != nil {
		return fmt.Errorf("memory info: %w", err)
	}
	b.fp = backend.Fingerprint{
		Backend:   "cuda",
		Device:    name,
		Driver:    kernelsim.DriverVersion(cu.Version()),
		Precision: b.precision,
		Class:     kernelsim.Class(name, b.precision),
		VRAMTotal: total,
		VRAMFree:  free,
	}
	b.log.Debug("cuda module loaded", "target", target, "kernel", kernel,
		"compute_capability", fmt.Sprintf("%d.%d", major, minor))
	return nil
}

func (b *Backend) teardown() error {
	var errs []error
	for i := range b.bufs {
		if err := b.bufs[i].free(); err != nil {
			errs = append(errs, err)
		}
	}
	if b.mod != (cu.Module{}) {
		if err := b.mod.Unload(); err != nil {
			errs = append(errs, fmt.Errorf("unload module: %w", err))
		}
		b.mod = cu.Module{}
	}
	if b.cuctx != (cu.CUContext{}) {
		if err := b.cuctx.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("destroy context: %w", err))
		}
	}
	return errors.Join(errs...)
}

// do runs f on the worker and returns its error. The caller holds b.mu.
func (b *Backend) do(f func() error) error {
	if b.closed {
		return fmt.Errorf("cuda backend is closed")
	}
	res := make(chan error, 1)
	b.jobs <- func() { res <- f() }
	return <-res
}

// Name returns "cuda".
func (b *Backend) Name() string { return "cuda" }

// Fingerprint describes the device: name, CUDA driver version, precision,
// class "cuda-<device-slug>" ("-tf32" appended for tf32), total and free
// memory (free refreshed on each call while open).
func (b *Backend) Fingerprint() backend.Fingerprint {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.do(func() error {
		free, _, err := cu.MemInfo()
		if err == nil {
			b.fp.VRAMFree = free
		}
		return err
	})
	return b.fp
}

// Close frees the device memory, unloads the module and destroys the
// context. Calls after Close fail; Close twice is a no-op.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	close(b.jobs)
	<-b.done
	if b.teardownErr != nil {
		return fmt.Errorf("cuda backend close: %w", b.teardownErr)
	}
	return nil
}
