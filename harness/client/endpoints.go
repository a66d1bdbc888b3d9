package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/regen-dev/regen/harness/workflow"
)

// ObjectInfoRaw returns GET /object_info as the server sent it.
func (c *Client) ObjectInfoRaw(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.getJSON(ctx, "/object_info", nil, &raw); err != nil {
		return nil, fmt.Errorf("get object_info: %w", err)
	}
	return raw, nil
}

// ObjectInfo returns the server's node schemas (GET /object_info).
func (c *Client) ObjectInfo(ctx context.Context) (workflow.ObjectInfo, error) {
	raw, err := c.ObjectInfoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return workflow.ParseObjectInfo(raw)
}

// SystemStats returns GET /system_stats, raw and parsed.
func (c *Client) SystemStats(ctx context.Context) (*SystemStats, error) {
	var raw json.RawMessage
	if err := c.getJSON(ctx, "/system_stats", nil, &raw); err != nil {
		return nil, fmt.Errorf("get system_stats: %w", err)
	}
	s := &SystemStats{Raw: raw}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("decode system_stats: %w", err)
	}
	return s, nil
}

// Queue returns GET /queue.
func (c *Client) Queue(ctx context.Context) (*QueueState, error) {
	var q QueueState
	if err := c.getJSON(ctx, "/queue", nil, &q); err != nil {
		return nil, fmt.Errorf("get queue: %w", err)
	}
	return &q, nil
}

// History returns the history entry of promptID, or an error wrapping
// ErrNotFound while the prompt has not finished.
func (c *Client) History(ctx context.Context, promptID string) (*HistoryEntry, error) {
	h, ok, err := c.history(ctx, promptID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("get history of prompt %s: %w", promptID, ErrNotFound)
	}
	return h, nil
}

func (c *Client) history(ctx context.Context, promptID string) (*HistoryEntry, bool, error) {
	var m map[string]*HistoryEntry
	if err := c.getJSON(ctx, "/history/"+url.PathEscape(promptID), nil, &m); err != nil {
		return nil, false, fmt.Errorf("get history of prompt %s: %w", promptID, err)
	}
	h := m[promptID]
	return h, h != nil, nil
}

// View downloads an output file (GET /view).
func (c *Client) View(ctx context.Context, ref ImageRef) ([]byte, error) {
	q := url.Values{"filename": {ref.Filename}, "subfolder": {ref.Subfolder}}
	if ref.Type != "" {
		q.Set("type", ref.Type)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/view", query: q, safe: true})
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", ref.Filename, err)
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("view %s: %w", ref.Filename, &HTTPError{Method: http.MethodGet, Path: "/view", StatusCode: resp.status, Body: truncate(string(resp.body), 512)})
	}
	return resp.body, nil
}

// Upload stores data as an input image (POST /upload/image) and returns the
// name to use as LoadImage's image value ("subfolder/name" when the server
// put it in a subfolder). Without Overwrite the server may rename it.
func (c *Client) Upload(ctx context.Context, name string, data []byte, opts UploadOptions) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("image", name)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", name, err)
	}
	if _, err := fw.Write(data); err != nil {
		return "", fmt.Errorf("upload %s: %w", name, err)
	}
	fields := [][2]string{{"type", opts.Type}, {"subfolder", opts.Subfolder}}
	if opts.Overwrite {
		fields = append(fields, [2]string{"overwrite", "true"})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return "", fmt.Errorf("upload %s: %w", name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("upload %s: %w", name, err)
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/upload/image", body: body.Bytes(),
		contentType: mw.FormDataContentType(), safe: opts.Overwrite})
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", name, err)
	}
	if resp.status != http.StatusOK {
		return "", fmt.Errorf("upload %s: %w", name, &HTTPError{Method: http.MethodPost, Path: "/upload/image", StatusCode: resp.status, Body: truncate(string(resp.body), 512)})
	}
	var out struct {
		Name      string `json:"name"`
		Subfolder string `json:"subfolder"`
	}
	if err := json.Unmarshal(resp.body, &out); err != nil || out.Name == "" {
		return "", fmt.Errorf("upload %s: decode answer %q", name, truncate(string(resp.body), 200))
	}
	if out.Subfolder != "" {
		return out.Subfolder + "/" + out.Name, nil
	}
	return out.Name, nil
}

// Interrupt asks the server to interrupt promptID if it is running (POST
// /interrupt). With an empty id the server interrupts whatever runs.
func (c *Client) Interrupt(ctx context.Context, promptID string) error {
	body := map[string]any{}
	if promptID != "" {
		body["prompt_id"] = promptID
	}
	if err := c.expectOK(c.postJSON(ctx, "/interrupt", body, true)); err != nil {
		return fmt.Errorf("interrupt prompt %s: %w", promptID, err)
	}
	return nil
}

// DeleteQueued removes pending prompts from the queue (POST /queue).
func (c *Client) DeleteQueued(ctx context.Context, promptIDs ...string) error {
	if err := c.expectOK(c.postJSON(ctx, "/queue", map[string]any{"delete": promptIDs}, true)); err != nil {
		return fmt.Errorf("delete queued prompts: %w", err)
	}
	return nil
}

// Free asks the server to unload models and/or free memory and caches
// (POST /free).
func (c *Client) Free(ctx context.Context, unloadModels, freeMemory bool) error {
	body := map[string]bool{"unload_models": unloadModels, "free_memory": freeMemory}
	if err := c.expectOK(c.postJSON(ctx, "/free", body, true)); err != nil {
		return fmt.Errorf("free: %w", err)
	}
	return nil
}

func (c *Client) expectOK(resp *response, err error) error {
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		return &HTTPError{Method: http.MethodPost, StatusCode: resp.status, Body: truncate(string(resp.body), 512)}
	}
	return nil
}

// WaitReady polls GET /system_stats every interval until the server
// answers or ctx ends.
func (c *Client) WaitReady(ctx context.Context, interval time.Duration) error {
	for {
		_, err := c.SystemStats(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server %s: %w (last error: %v)", c.base.Redacted(), ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
