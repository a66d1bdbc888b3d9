// Package app is regen-executor's command line: it parses the flags, chooses
// the compute backend (cpu, or cuda when built with -tags cuda) and the node
// classes, and serves the executor until its context is done. The library
// packages under executor/ choose neither: a program does, here.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/backend/cuda"
	"github.com/regen-dev/regen/executor/backend/cudaemu"
	"github.com/regen-dev/regen/executor/engine"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/executor/server"
	"github.com/regen-dev/regen/internal/version"
)

// Exit codes of regen-executor.
const (
	ExitOK    = 0 // served until SIGINT/SIGTERM, or -h/--version
	ExitError = 1 // could not start or serve (port taken, backend unavailable)
	ExitUsage = 2 // a usage mistake: unknown flag, bad value, stray argument
)

// usageError is a usage mistake; it carries a hint.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + "\nTry: " + e.hint
}

// ExitCode maps Run's error to the process exit code, printing the error
// to stderr (nothing for nil).
func ExitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintln(stderr, "regen-executor: "+strings.TrimSpace(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

// newBackend constructs the backend f names, explicitly. The cuda package
// has an untagged stub whose New fails with "CUDA support is not compiled
// in; build with -tags cuda (make cuda)"; the real backend needs -tags cuda.
// cuda-emulated (the CUDA kernels' arithmetic on the CPU) needs nothing.
// --tf32 applies to cuda and cuda-emulated, --nondeterministic to
// cuda-emulated only; elsewhere they are usage errors, not ignored.
func newBackend(f *flags, log *slog.Logger) (backend.Backend, error) {
	precision := "fp32"
	if f.tf32 {
		precision = "tf32"
	}
	if f.tf32 && f.backend != "cuda" && f.backend != "cuda-emulated" {
		return nil, &usageError{msg: fmt.Sprintf("--tf32 with --backend %s (want cuda or cuda-emulated)", f.backend), hint: "regen-executor --backend cuda-emulated --tf32"}
	}
	if f.nondeterministic && f.backend != "cuda-emulated" {
		return nil, &usageError{msg: fmt.Sprintf("--nondeterministic with --backend %s (want cuda-emulated)", f.backend), hint: "regen-executor --backend cuda-emulated --nondeterministic"}
	}
	switch f.backend {
	case "cpu":
		return cpu.New(), nil
	case "cuda":
		return cuda.New(cuda.Options{Device: 0, Precision: precision, Logger: log})
	case cudaemu.Name:
		return cudaemu.New(cudaemu.Options{Precision: precision, Nondeterministic: f.nondeterministic, Logger: log})
	}
	return nil, &usageError{msg: fmt.Sprintf("unknown backend %q (want cpu, cuda-emulated or cuda)", f.backend), hint: "regen-executor --backend cpu"}
}

type flags struct {
	listen           string
	dirs             node.Dirs
	backend          string
	tf32             bool
	nondeterministic bool
	maxUploadSize    int64
	disableMetadata  bool
	logFormat        string
	verbose          bool
	maxHistory       int
	maxHistoryMiB    int64
	limits           engine.Limits
	metricsListen    string
	version          bool
}

// Run is regen-executor's command line: it parses args (without the program
// name), starts the server and runs until ctx is done (SIGINT/SIGTERM in the
// binary), then shuts down gracefully and returns nil. A usage mistake
// comes back as an error that ExitCode maps to ExitUsage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f flags
	fs := flag.NewFlagSet("regen-executor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8188", "address to listen on (host:port)")
	fs.StringVar(&f.dirs.Models, "models", "models", "models folder (checkpoints/, loras/, vae/)")
	fs.StringVar(&f.dirs.Input, "input", "input", "input folder (LoadImage, uploads); created if missing")
	fs.StringVar(&f.dirs.Output, "output", "output", "output folder (SaveImage); created if missing")
	fs.StringVar(&f.dirs.Temp, "temp", "temp", "temp folder (PreviewImage); created if missing")
	fs.StringVar(&f.backend, "backend", "cpu", "compute backend: cpu, cuda-emulated (the CUDA kernels' arithmetic on the CPU) or cuda (-tags cuda)")
	fs.BoolVar(&f.tf32, "tf32", false, "cuda and cuda-emulated: the tensor-core (TF32) attention kernel instead of fp32")
	fs.BoolVar(&f.nondeterministic, "nondeterministic", false, "cuda-emulated: shuffle the key-split combine order on every call, as GPU atomics would (seeded from the start time)")
	fs.Int64Var(&f.maxUploadSize, "max-upload-size", 100, "maximum upload size in MiB")
	fs.BoolVar(&f.disableMetadata, "disable-metadata", false, "do not embed the prompt and workflow in saved PNGs")
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format: auto (JSON unless stderr is a terminal), json or text")
	fs.BoolVar(&f.verbose, "v", false, "verbose (debug) logging")
	fs.IntVar(&f.maxHistory, "max-history", 10000, "finished prompts kept in /history")
	fs.Int64Var(&f.maxHistoryMiB, "max-history-size", server.DefaultMaxHistoryBytes>>20, "MiB of entries kept in /history (the oldest go first)")
	fs.Int64Var(&f.limits.MaxPixels, "max-pixels", engine.DefaultMaxPixels, "largest width × height a prompt may ask for (a latent or image size); larger is a validation error; -1: no bound")
	fs.Int64Var(&f.limits.MaxBatch, "max-batch", engine.DefaultMaxBatch, "largest batch_size (or RepeatLatentBatch amount) a prompt may ask for; larger is a validation error; -1: no bound")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "also serve /metrics (and /healthz) on this address, e.g. :9090 (metrics stay on --listen too)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: regen-executor [flags]\n\nA ComfyUI-compatible server running regen's closed-form diffusion model.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{msg: fmt.Sprintf("parse flags: %v", err), hint: "regen-executor -h"}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected arguments %q", fs.Args()), hint: "regen-executor -h"}
	}
	if f.version {
		fmt.Fprintf(stdout, "regen-executor %s\n", version.String())
		return nil
	}
	log, err := newLogger(f.logFormat, f.verbose, stderr)
	if err != nil {
		return err
	}
	be, err := newBackend(&f, log)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("start backend: %w", err)
	}
	defer be.Close()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		return fmt.Errorf("register nodes: %w", err)
	}
	srv, err := server.New(server.Options{
		Dirs:            f.dirs,
		Backend:         be,
		Registry:        reg,
		Logger:          log,
		MaxUploadSize:   f.maxUploadSize << 20,
		MaxHistory:      f.maxHistory,
		MaxHistoryBytes: f.maxHistoryMiB << 20,
		Limits:          f.limits,
		DisableMetadata: f.disableMetadata,
		Version:         version.String(),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another executor or ComfyUI running? try --listen 127.0.0.1:0)", f.listen, err)
	}
	if f.metricsListen != "" {
		mln, err := net.Listen("tcp", f.metricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s for metrics: %w", f.metricsListen, err)
		}
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ms.Serve(mln) }()
		defer ms.Close()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}
	fmt.Fprintf(stdout, "regen-executor %s listening on http://%s\n", version.String(), ln.Addr())
	return srv.Serve(ctx, ln)
}

func newLogger(format string, verbose bool, w io.Writer) (*slog.Logger, error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, &usageError{msg: fmt.Sprintf("unknown --log-format %q (want auto, json or text)", format), hint: "regen-executor --log-format text"}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
