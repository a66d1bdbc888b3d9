package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrUnreachable is returned (wrapped) when an endpoint does not answer.
var ErrUnreachable = errors.New("executor unreachable")

// Endpoint is one executor process the runner can submit prompts to.
type Endpoint struct {
	// Name identifies the endpoint in reports ("local-0", a pod name).
	Name string
	// URL is the base URL, e.g. http://127.0.0.1:8188.
	URL string
}

// Target is where cases run.
type Target interface {
	// Start brings the target up (or checks that it is up) and returns
	// its endpoints; it fails with ErrUnreachable when none answers.
	Start(ctx context.Context) ([]Endpoint, error)
	// Fingerprint returns the executor's /system_stats, verbatim, from
	// the first endpoint; goldens and run records keep it.
	Fingerprint(ctx context.Context) (json.RawMessage, error)
	// Describe names the target for reports ("local x2", a URL).
	Describe() string
	// Close tears down whatever Start started.
	Close() error
}

// URL is a target that is already running at a base URL.
type URL struct {
	Base string
	// HTTPClient is used for the readiness and fingerprint requests
	// (default: a client with a 10 s timeout).
	HTTPClient *http.Client

	eps []Endpoint
}

var _ Target = (*URL)(nil)

// NewURL returns a target for the server at base.
func NewURL(base string) (*URL, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse target url %q: want http(s)://host[:port]", base)
	}
	return &URL{Base: strings.TrimRight(base, "/")}, nil
}

// Start checks that the server answers /system_stats.
func (t *URL) Start(ctx context.Context) ([]Endpoint, error) {
	if _, err := SystemStats(ctx, t.client(), t.Base); err != nil {
		return nil, err
	}
	t.eps = []Endpoint{{Name: "url", URL: t.Base}}
	return t.eps, nil
}

// Fingerprint returns the server's /system_stats.
func (t *URL) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	return SystemStats(ctx, t.client(), t.Base)
}

// Describe returns the base URL.
func (t *URL) Describe() string { return t.Base }

// Close does nothing: the server is not ours.
func (t *URL) Close() error { return nil }

func (t *URL) client() *http.Client {
	if t.HTTPClient != nil {
		return t.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// SystemStats fetches base/system_stats and returns it verbatim (compacted
// JSON). Connection failures and non-200 answers wrap ErrUnreachable.
func SystemStats(ctx context.Context, hc *http.Client, base string) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/system_stats", nil)
	if err != nil {
		return nil, fmt.Errorf("build system_stats request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w: %w", base, ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s/system_stats: %w: %w", base, ErrUnreachable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s/system_stats: %w: status %s", base, ErrUnreachable, resp.Status)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("decode %s/system_stats: %w", base, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode system_stats: %w", err)
	}
	return out, nil
}
