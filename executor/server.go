package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
)

// Options configure a Server.
type Options struct {
	Dirs            node.Dirs       // models/input/output/temp; created if missing (not models)
	Backend         backend.Backend // required
	Registry        *node.Registry  // nil → node.NewRegistry(nodes.Builtin()...)
	Logger          *slog.Logger    // nil → slog.Default()
	MaxUploadSize   int64           // 0 → 100 MiB
	MaxHistory      int             // 0 → 10000
	DisableMetadata bool
	Version         string // reported as system.comfyui_version
	// ShutdownGrace is how long Serve lets a running prompt finish after
	// ctx is done before interrupting it; 0 → 10s.
	ShutdownGrace time.Duration
}

// Server is a ComfyUI-compatible executor.
type Server struct {
	opts    Options
	log     *slog.Logger
	reg     *node.Registry
	backend backend.Backend
	dirs    node.Dirs

	queue   *queue
	hist    *history
	hub     *hub
	cache   *outputCache // worker goroutine only
	res     *resources
	metrics *metrics
	handler http.Handler
	started time.Time

	shutdown     chan struct{}
	shutdownOnce sync.Once
	nonce        atomic.Uint64

	runMu sync.Mutex
	run   *runState

	freeMu     sync.Mutex
	freeUnload bool
	freeMemory bool
}

// New checks opts, creates the input/output/temp folders and returns a
// Server. It starts nothing: call Serve.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil {
		return nil, errors.New("create executor: no backend")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		reg, err := node.NewRegistry(nodes.Builtin()...)
		if err != nil {
			return nil, fmt.Errorf("create executor: %w", err)
		}
		opts.Registry = reg
	}
	if opts.MaxUploadSize <= 0 {
		opts.MaxUploadSize = 100 << 20
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
		hist:     newHistory(opts.MaxHistory),
		cache:    newOutputCache(),
		res:      &resources{objs: map[string]*resEntry{}, backend: opts.Backend},
		shutdown: make(chan struct{}),
		started:  time.Now(),
	}
	s.hub = newHub(s.log)
	s.queue = newQueue(s.broadcastStatus)
	s.metrics = newMetrics(s.queue.pendingLen)
	s.handler = s.routes()
	return s, nil
}

// Handler returns every route, with and without the /api prefix.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve runs the worker and serves HTTP on ln until ctx is done, then shuts
// down gracefully: it stops accepting, lets the running prompt finish within
// ShutdownGrace (then interrupts it), and returns nil.
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
		s.worker(workerCtx)
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
		s.interrupt("")
		<-workerDone
	}
	_ = hs.Close()
	return err
}

// worker runs queued prompts one at a time.
func (s *Server) worker(ctx context.Context) {
	for {
		s.applyFree()
		it, err := s.queue.next(ctx)
		if err != nil {
			return
		}
		if it == nil {
			continue
		}
		s.execute(it)
	}
}

// requestFree records POST /free flags; the worker applies them between
// prompts.
func (s *Server) requestFree(unload, freeMemory bool) {
	s.freeMu.Lock()
	s.freeUnload = s.freeUnload || unload
	s.freeMemory = s.freeMemory || freeMemory
	s.freeMu.Unlock()
	s.queue.signal()
}

func (s *Server) applyFree() {
	s.freeMu.Lock()
	unload, mem := s.freeUnload, s.freeMemory
	s.freeUnload, s.freeMemory = false, false
	s.freeMu.Unlock()
	if unload || mem {
		s.res.clear()
		s.log.Info("unloaded models")
	}
	if mem {
		s.cache.reset()
		s.log.Info("reset caches")
	}
}

func (s *Server) setRun(rs *runState) {
	s.runMu.Lock()
	s.run = rs
	s.runMu.Unlock()
}

// interrupt interrupts the running prompt: any when id is empty, else only
// if id is the running prompt.
func (s *Server) interrupt(id string) bool {
	s.runMu.Lock()
	rs := s.run
	s.runMu.Unlock()
	if rs == nil || (id != "" && rs.id != id) {
		return false
	}
	rs.interrupted.Store(true)
	rs.cancel()
	return true
}

// executingFor returns the running node when client id owns the running
// prompt.
func (s *Server) executingFor(clientID string) (nodeID, promptID string, ok bool) {
	s.runMu.Lock()
	rs := s.run
	s.runMu.Unlock()
	if rs == nil || rs.clientID != clientID {
		return "", "", false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.node == "" {
		return "", "", false
	}
	return rs.node, rs.id, true
}

func (s *Server) statusData() ordered {
	return ordered{{"exec_info", ordered{{"queue_remaining", s.queue.remaining()}}}}
}

func (s *Server) broadcastStatus() {
	if s.hub == nil || !s.hub.hasClients() {
		return
	}
	s.hub.broadcast("status", ordered{{"status", s.statusData()}})
}

func (s *Server) featureFlags() ordered {
	return ordered{{"supports_preview_metadata", true}, {"max_upload_size", s.opts.MaxUploadSize}}
}

// nodeEnv builds the environment of one node of a queued prompt.
func (s *Server) nodeEnv(it *item, nodeID, class string, log *slog.Logger) *node.Env {
	env := &node.Env{
		NodeID:          nodeID,
		Dirs:            s.dirs,
		DisableMetadata: s.opts.DisableMetadata,
		Logger:          log.With("node", nodeID, "class", class),
		Resources:       s.res,
	}
	if it != nil {
		env.PromptID = it.id
		env.Prompt = it.prompt
		env.ExtraPNGInfo = it.pngInfo
		clientID := it.clientID
		env.SendBinary = func(eventType uint32, payload []byte) {
			s.hub.sendBinary(clientID, eventType, payload, func(imageType string) []byte {
				b, _ := ordered{{"node_id", nodeID}, {"prompt_id", it.id}, {"display_node_id", nodeID},
					{"parent_node_id", nil}, {"real_node_id", nodeID}, {"image_type", imageType}}.MarshalJSON()
				return b
			})
		}
	} else {
		env.SendBinary = func(uint32, []byte) {}
	}
	env.Progress = func(int, int) error { return nil }
	return env
}

// resources implements node.Resources.
type resources struct {
	mu      sync.Mutex
	objs    map[string]*resEntry
	backend backend.Backend
}

type resEntry struct {
	once sync.Once
	v    any
	err  error
}

// Load returns the object under key, making it once.
func (r *resources) Load(key string, load func() (any, error)) (any, error) {
	r.mu.Lock()
	e, ok := r.objs[key]
	if !ok {
		e = &resEntry{}
		r.objs[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() { e.v, e.err = load() })
	if e.err != nil {
		r.mu.Lock()
		if r.objs[key] == e {
			delete(r.objs, key)
		}
		r.mu.Unlock()
		return nil, fmt.Errorf("load %s: %w", key, e.err)
	}
	return e.v, nil
}

// Backend returns the compute backend.
func (r *resources) Backend() any { return r.backend }

// clear drops (and closes, where they are io.Closers) every loaded object.
func (r *resources) clear() {
	r.mu.Lock()
	objs := r.objs
	r.objs = map[string]*resEntry{}
	r.mu.Unlock()
	for _, e := range objs {
		if c, ok := e.v.(io.Closer); ok {
			_ = c.Close()
		}
	}
}
