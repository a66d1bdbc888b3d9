package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/target/local"
)

// TestValidateRejectsWhatTheServerRejects posts broken variants of the
// image-ops workflow to regen-executor and checks that
// workflow.ValidateWithFiles (regen workflow validate) rejects every one the
// server rejects (a 400, or node_errors on a 200), and passes the ones it
// queues. hack/validate-vs-server.sh does the same against any URL (a real
// ComfyUI: 0 missed against 0.33.0).
func TestValidateRejectsWhatTheServerRejects(t *testing.T) {
	models := testutil.Path(t, "fixtures", "models")
	if _, err := os.Stat(models); err != nil {
		t.Skipf("no fixture models: %v", err)
	}
	work := t.TempDir()
	tgt := local.New(local.Options{Models: models, WorkDir: work, Logger: testutil.Logger()})
	eps, err := tgt.Start(context.Background())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := tgt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	url := eps[0].URL
	// The workflow's input, where the executor's LoadImage reads it.
	png, err := os.ReadFile(testutil.Path(t, "fixtures", "inputs", "scene-256.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "executor-0", "input", "scene-256.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	info := fetchInfo(t, url)
	base, err := workflow.Load(testutil.Path(t, "fixtures", "workflows", "image-ops.json"))
	if err != nil {
		t.Fatal(err)
	}
	link := func(id string, slot int) any { return []any{id, json.Number(strconv.Itoa(slot))} }
	tests := []struct {
		name   string
		edit   func(p workflow.Prompt)
		reject bool
	}{
		{"unchanged", func(workflow.Prompt) {}, false},
		{"width too large", func(p workflow.Prompt) { p["2"].Inputs["width"] = json.Number("99999") }, true},
		{"width negative", func(p workflow.Prompt) { p["2"].Inputs["width"] = json.Number("-1") }, true},
		{"width not a number", func(p workflow.Prompt) { p["2"].Inputs["width"] = "wide" }, true},
		{"width float", func(p workflow.Prompt) { p["2"].Inputs["width"] = json.Number("96.7") }, false},
		{"method not in list", func(p workflow.Prompt) { p["2"].Inputs["upscale_method"] = "sinc" }, true},
		{"unknown node type", func(p workflow.Prompt) { p["3"].ClassType = "ImageInvertX" }, true},
		{"missing required input", func(p workflow.Prompt) { delete(p["2"].Inputs, "crop") }, true},
		{"link to missing node", func(p workflow.Prompt) { p["3"].Inputs["image"] = link("99", 0) }, true},
		{"link to missing output", func(p workflow.Prompt) { p["3"].Inputs["image"] = link("2", 5) }, true},
		{"link type mismatch", func(p workflow.Prompt) { p["4"].Inputs["image1"] = link("1", 1) }, true},
		{"cycle", func(p workflow.Prompt) { p["2"].Inputs["image"] = link("3", 0) }, true},
		{"missing input file", func(p workflow.Prompt) { p["1"].Inputs["image"] = "no-such-file.png" }, true},
		{"no output node", func(p workflow.Prompt) { delete(p, "5"); delete(p, "6") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := base.Prompt(info)
			if err != nil {
				t.Fatal(err)
			}
			p = p.Clone()
			tt.edit(p)
			serverRejects := post(t, url, p)
			if serverRejects != tt.reject {
				t.Errorf("server rejects = %v, want %v", serverRejects, tt.reject)
			}
			verr := workflow.ValidateWithFiles(p, info)
			if (verr != nil) != serverRejects {
				t.Errorf("validate = %v, server rejects = %v", verr, serverRejects)
			}
		})
	}
}

func fetchInfo(t *testing.T, url string) workflow.ObjectInfo {
	t.Helper()
	resp, err := http.Get(url + "/object_info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	info, err := workflow.ParseObjectInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// post submits p and reports whether the server rejected any of it.
func post(t *testing.T, url string, p workflow.Prompt) bool {
	t.Helper()
	body, err := json.Marshal(map[string]any{"prompt": p, "client_id": "validate-test"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/prompt", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		NodeErrors map[string]any `json:"node_errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode != http.StatusOK || len(r.NodeErrors) > 0
}
