package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/engine"
	"github.com/regen-dev/regen/executor/node"
)

// Limits on hostile input.
const (
	maxPromptBody  = 64 << 20 // bytes of a POST /prompt body
	maxControlBody = 1 << 20  // bytes of small control bodies (/queue, /history, ...)
)

// Options configure a Server.
type Options struct {
	Dirs            node.Dirs       // models/input/output/temp; created if missing (not models)
	Backend         backend.Backend // required; the server does not close it
	Registry        *node.Registry  // the node classes; required
	Logger          *slog.Logger    // nil → slog.Default()
	MaxUploadSize   int64           // 0 → 100 MiB
	MaxHistory      int             // 0 → 10000
	MaxHistoryBytes int64           // JSON kept in /history, the oldest dropped first; 0 → DefaultMaxHistoryBytes
	DisableMetadata bool
	Version         string // reported as system.comfyui_version
	// Limits bound the sizes a prompt may ask for (--max-pixels,
	// --max-batch); zero fields take the engine's defaults.
	Limits engine.Limits
	// ShutdownGrace is how long Serve lets a running prompt finish after
	// ctx is done before interrupting it; 0 → 10s.
	ShutdownGrace time.Duration
}

// DefaultMaxHistoryBytes bounds /history's entries by size (256 MiB):
// ComfyUI keeps 10000 entries whatever their size, and an entry carries the
// whole prompt and extra_data (often a UI workflow of hundreds of KB).
const DefaultMaxHistoryBytes = 256 << 20

// Server is a ComfyUI-compatible HTTP and websocket server over an
// engine.Engine. It is the engine's Sink: events go to websocket clients,
// finished prompts to the history, timings to the metrics.
type Server struct {
	opts    Options
	log     *slog.Logger
	reg     *node.Registry
	backend backend.Backend
	dirs    node.Dirs

	eng     *engine.Engine
	hist    *history
	hub     *hub
	metrics *metrics
	handler http.Handler
	started time.Time

	shutdown     chan struct{}
	shutdownOnce sync.Once
}

var _ engine.Sink = (*Server)(nil)

// New checks opts, creates the input/output/temp folders and returns a
// Server. It starts nothing: call Serve.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil {
		return nil, errors.New("create executor: no backend")
	}
	if opts.Registry == nil {
		return nil, errors.New("create executor: no node registry")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = 100 << 20
	}
	if opts.MaxHistoryBytes <= 0 {
		opts.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if opts.MaxHistory <= 0 {
		opts.MaxHistory = 10000
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.Version == "" {
		opts.Version = "regen-executor"
	}
	for _, d := range []string{opts.Dirs.Input, opts.Dirs.Output, opts.Dirs.Temp} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create executor: %w", err)
		}
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger.With("component", "executor"),
		reg:      opts.Registry,
		backend:  opts.Backend,
		dirs:     opts.Dirs,
		hist:     newHistory(opts.MaxHistory, opts.MaxHistoryBytes),
		shutdown: make(chan struct{}),
		started:  time.Now(),
	}
	s.hub = newHub(s.log)
	eng, err := engine.New(engine.Options{
		Registry:        opts.Registry,
		Backend:         opts.Backend,
		Dirs:            opts.Dirs,
		DisableMetadata: opts.DisableMetadata,
		Limits:          opts.Limits,
		Sink:            s,
		Logger:          s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("create executor: %w", err)
	}
	s.eng = eng
	s.metrics = newMetrics(eng.Pending)
	s.handler = s.routes()
	return s, nil
}

// Handler returns every route, with and without the /api prefix.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve runs the engine's worker and serves HTTP on ln until ctx is done,
// then shuts down gracefully: it stops accepting, lets the running prompt
// finish within ShutdownGrace (then interrupts it), and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		s.eng.Run(workerCtx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "backend", s.backend.Name())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	s.log.Info("shutting down")
	s.shutdownOnce.Do(func() { close(s.shutdown) })
	stopWorker() // takes no new item; the running one continues
	grace, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	if e := hs.Shutdown(grace); e != nil && err == nil && !errors.Is(e, context.DeadlineExceeded) {
		err = fmt.Errorf("shut down http: %w", e)
	}
	select {
	case <-workerDone:
	case <-grace.Done():
		s.log.Warn("running prompt did not finish within the grace period; interrupting")
		s.eng.Interrupt("")
		<-workerDone
	}
	_ = hs.Close()
	return err
}

// featureFlags are ComfyUI 0.33.0's /features keys (comfy_api/feature_flags.py
// _CORE_FEATURE_FLAGS), in its order; features regen-executor does not have
// (model type tags, ComfyUI-Manager v4, node replacements, assets) are false.
func (s *Server) featureFlags() ordered {
	return ordered{
		{"supports_preview_metadata", true},
		{"supports_model_type_tags", false},
		{"max_upload_size", s.opts.MaxUploadSize},
		{"extension", ordered{{"manager", ordered{{"supports_v4", false}}}}},
		{"node_replacements", false},
		{"assets", false},
	}
}

// Listening implements engine.Sink: whether any websocket client is
// connected.
func (s *Server) Listening() bool { return s.hub.hasClients() }

// Event implements engine.Sink: it sends the event to its websocket
// clients.
func (s *Server) Event(ev engine.Event) {
	switch ev.To {
	case engine.ToClient:
		s.hub.send(ev.ClientID, ev.Type, ev.Data)
	case engine.ToClientOrAll:
		s.hub.sendOrBroadcast(ev.ClientID, ev.Type, ev.Data)
	case engine.ToAll:
		s.hub.broadcast(ev.Type, ev.Data)
	}
}

// Preview implements engine.Sink: a binary frame to the prompt's client (or
// every client when it has none), with ComfyUI's preview metadata for
// clients that asked for it.
func (s *Server) Preview(p engine.Preview) {
	s.hub.sendBinary(p.ClientID, p.Type, p.Payload, func(imageType string) []byte {
		b, _ := ordered{{"node_id", p.NodeID}, {"prompt_id", p.PromptID}, {"display_node_id", p.NodeID},
			{"parent_node_id", nil}, {"real_node_id", p.NodeID}, {"image_type", imageType}}.MarshalJSON()
		return b
	})
}

// Progress implements engine.Sink: it counts sampler steps.
func (s *Server) Progress(engine.Progress) { s.metrics.steps.Inc() }

// NodeDone implements engine.Sink: it observes the node's duration.
func (s *Server) NodeDone(n engine.NodeDone) {
	s.metrics.nodeSeconds.WithLabelValues(n.Class).Observe(n.Duration.Seconds())
}

// PromptDone implements engine.Sink: it counts the outcome and keeps the
// history entry.
func (s *Server) PromptDone(p engine.PromptDone) {
	s.metrics.prompts.WithLabelValues(p.Outcome).Inc()
	s.hist.put(p.PromptID, p.Entry)
}
