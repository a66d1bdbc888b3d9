package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client talks to one ComfyUI-compatible server. It is safe for concurrent
// use; each Run has its own websocket and client id.
type Client struct {
	base         *url.URL
	hc           *http.Client
	timeout      time.Duration
	log          *slog.Logger
	retries      int
	backoff      time.Duration
	pollInterval time.Duration

	// noWS is set once /ws answered a plain HTTP status (426 from a proxy
	// that does not pass upgrades): Run then follows prompts by polling
	// /history without dialling again; noWSOnce says so once.
	noWS     atomic.Bool
	noWSOnce sync.Once
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (its transport also dials the
// websocket).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTimeout bounds each HTTP request (default 60s); it does not bound a
// whole Run (see RunOptions.Timeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithRetries retries infrastructure failures up to n more times, waiting
// backoff, then twice that, and so on (capped at 30s). Requests with side
// effects (POST /prompt, uploads) are retried only when the server
// certainly did not act on them: the connection was refused, or it answered
// 429 or 5xx.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = n, backoff }
}

// WithPollInterval sets how often Run polls /history when the websocket
// has dropped (default 500ms).
func WithPollInterval(d time.Duration) Option { return func(c *Client) { c.pollInterval = d } }

// New returns a client for the server at baseURL (http or https, with an
// optional path prefix such as http://host:8188/api).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("parse server URL %q (want http://host:port): %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse server URL %q: want http://host:port or https://host:port", baseURL)
	}
	c := &Client{base: u, hc: http.DefaultClient, timeout: 60 * time.Second,
		log: slog.Default(), backoff: 500 * time.Millisecond, pollInterval: 500 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "client", "server", u.Host)
	return c, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// endpoint returns the URL of path (with query) on the server.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// request is one HTTP call.
type request struct {
	method, path string
	query        url.Values
	body         []byte
	contentType  string
	// safe requests have no side effects, or idempotent ones, and are
	// retried after any infrastructure failure.
	safe bool
}

// response is a completed call.
type response struct {
	status int
	body   []byte
}

// do sends r, retrying per the client's policy. A non-2xx status other than
// 400 is returned as an *HTTPError; 400 is returned as a response for the
// caller to decode.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var last error
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, r)
		if err == nil {
			return resp, nil
		}
		last = err
		if attempt >= c.retries || !retryable(err, r.safe) || ctx.Err() != nil {
			return nil, last
		}
		wait := c.wait(attempt)
		c.log.Debug("retrying request", "method", r.method, "path", r.path, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (while retrying after: %v)", ctx.Err(), last)
		case <-time.After(wait):
		}
	}
}

// wait is the pause before retry attempt+1: backoff doubled per attempt,
// capped at 30s.
func (c *Client) wait(attempt int) time.Duration {
	const maxWait = 30 * time.Second
	if attempt > 30 {
		return maxWait
	}
	w := c.backoff << attempt
	if w > maxWait || w < 0 {
		return maxWait
	}
	return w
}

func (c *Client) once(ctx context.Context, r request) (*response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.endpoint(r.path, r.query), body)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", r.method, r.path, err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", r.method, r.path, err)
	}
	if res.StatusCode/100 != 2 && res.StatusCode != http.StatusBadRequest {
		return nil, &HTTPError{Method: r.method, Path: r.path, StatusCode: res.StatusCode, Body: truncate(string(data), 512)}
	}
	return &response{status: res.StatusCode, body: data}, nil
}

// retryable reports whether err may be retried. Refused connections and
// 429/5xx answers mean the server did not act on the request; other
// transport failures (reset, timeout) are retried only for safe requests.
func retryable(err error, safe bool) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusTooManyRequests || he.StatusCode >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if isDialError(err) {
		return true
	}
	return safe
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// getJSON GETs path and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, safe: true})
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		return &HTTPError{Method: http.MethodGet, Path: path, StatusCode: resp.status, Body: truncate(string(resp.body), 512)}
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("decode GET %s: %w", path, err)
	}
	return nil
}

// postJSON POSTs v as JSON to path.
func (c *Client) postJSON(ctx context.Context, path string, v any, safe bool) (*response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode POST %s: %w", path, err)
	}
	return c.do(ctx, request{method: http.MethodPost, path: path, body: body, contentType: "application/json", safe: safe})
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
