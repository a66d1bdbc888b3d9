package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

func TestWorkflowCommand(t *testing.T) {
	t.Parallel()
	info := filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "object-info-sd15.json")
	ui := filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "ui-sd15-default.json")
	tests := []struct {
		name      string
		args      []string
		wantOut   string // a testdata file the output must equal as JSON, or a substring
		wantErr   string
		usage     bool
		wantErrIO string // substring of stderr
	}{
		{name: "convert UI with a capture", args: []string{"convert", "--object-info", info, ui},
			wantOut: "ui-sd15-default.expected-api.json"},
		{name: "flags after the file", args: []string{"convert", ui, "--object-info", info},
			wantOut: "ui-sd15-default.expected-api.json"},
		{name: "API workflow needs no schemas", args: []string{"convert", filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "api-sd15-default.json")},
			wantOut: `"class_type": "KSampler"`},
		{name: "pin", args: []string{"pin", "--seed", "42", "--object-info", info, ui},
			wantOut: `"seed": 42,`, wantErrIO: "pinned 1 input to 42: 3.seed (KSampler)"},
		{name: "validate with an alias", args: []string{"validate", "--object-info", info, filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "api-sd15-default.json"),
			"--alias", "v1-5-pruned-emaonly.safetensors=v1-5-pruned-emaonly-fp16.safetensors"},
			wantOut: "ok (7 nodes, api format)", wantErrIO: "alias 4.ckpt_name (CheckpointLoaderSimple): v1-5-pruned-emaonly.safetensors → v1-5-pruned-emaonly-fp16.safetensors"},
		{name: "validate names every problem", args: []string{"validate", "--object-info", info, filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "api-sdxl-base-refiner.json")},
			wantErr: `node 4 (CheckpointLoaderSimple) input ckpt_name: value "sd_xl_base_1.0.safetensors" not in the target's list`},
		{name: "bad alias", args: []string{"convert", "--alias", "x", ui}, usage: true, wantErr: "want FROM=TO"},
		{name: "UI without schemas", args: []string{"convert", ui}, usage: true,
			wantErr: "converting a UI workflow needs the target's node schemas"},
		{name: "subgraphs rejected", args: []string{"convert", "--object-info", info, filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "ui-subgraph-template.json")},
			wantErr: `subgraph "New Subgraph" (d33c1791-dfd2-4102-8540-aa63e4434cd2), used by node 10 "Generate Image 1": the target lacks node types used inside it`},
		{name: "pin without seed", args: []string{"pin", ui}, usage: true, wantErr: "--seed is required"},
		{name: "bad seed", args: []string{"pin", "--seed", "-1", ui}, usage: true, wantErr: "not an unsigned 64-bit integer"},
		{name: "unknown subcommand", args: []string{"frobnicate"}, usage: true, wantErr: `unknown subcommand "frobnicate"`},
		{name: "two files", args: []string{"convert", ui, ui}, usage: true, wantErr: "want one workflow file, got 2"},
		{name: "missing file", args: []string{"convert", "nope.json"}, wantErr: "read workflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := Run(context.Background(), append([]string{"workflow"}, tt.args...), &out, &errOut)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var ue *usageError
				if errors.As(err, &ue) != tt.usage {
					t.Errorf("usage error = %v, want %v", !tt.usage, tt.usage)
				}
				if code := ExitCode(err, &bytes.Buffer{}); code != ExitInfra {
					t.Errorf("exit code = %d, want %d", code, ExitInfra)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v (stderr %s)", err, errOut.String())
			}
			if strings.HasSuffix(tt.wantOut, ".json") {
				want, err := os.ReadFile(filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), tt.wantOut))
				if err != nil {
					t.Fatal(err)
				}
				var g, w any
				if err := json.Unmarshal(out.Bytes(), &g); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out.String())
				}
				_ = json.Unmarshal(want, &w)
				if !reflect.DeepEqual(g, w) {
					t.Errorf("output differs from %s:\n%s", tt.wantOut, out.String())
				}
			} else if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErrIO) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErrIO, errOut.String())
			}
		})
	}
}

func TestWorkflowConvertDeterministic(t *testing.T) {
	t.Parallel()
	args := []string{"workflow", "convert", "--object-info", filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "object-info-sd15.json"), filepath.Join(testutil.Path(t, "harness", "workflow", "testdata"), "ui-sd15-default.json")}
	var first []byte
	for i := range 5 {
		var out bytes.Buffer
		if err := Run(context.Background(), args, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out.Bytes()
		} else if !bytes.Equal(first, out.Bytes()) {
			t.Fatalf("run %d printed different bytes", i)
		}
	}
	if !bytes.HasPrefix(first, []byte("{\n  \"3\": {\n    \"class_type\": \"KSampler\"")) {
		t.Errorf("want node ids in natural order, class_type first:\n%.200s", first)
	}
}

// TestWorkflowValidateTargets: validate checks exactly what the server's
// /object_info says (an empty option list accepts nothing, as ComfyUI
// answers value_not_in_list), and offline against the suite's committed
// capture when neither --url nor --object-info is given. A missing model
// names the suite profile whose aliases apply to that target, as a run
// picks it.
func TestWorkflowValidateTargets(t *testing.T) {
	t.Parallel()
	const emptyCkpts = `{"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [[]]}}, "output": ["MODEL", "CLIP", "VAE"]},
	 "Save": {"input": {"required": {"model": ["MODEL"]}}, "output": [], "output_node": true}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/object_info" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(emptyCkpts))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	prompt := filepath.Join(dir, "p.json")
	if err := os.WriteFile(prompt, []byte(`{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5.safetensors"}},
	 "2": {"class_type": "Save", "inputs": {"model": ["1", 0]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	comfy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/object_info":
			_, _ = w.Write([]byte(emptyCkpts))
		case "/system_stats": // no "regen" section: a ComfyUI
			_, _ = w.Write([]byte(`{"system": {"comfyui_version": "0.33.0"}, "devices": []}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(comfy.Close)
	aliased := filepath.Join(dir, "aliased.json")
	if err := os.WriteFile(aliased, []byte(`{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
	 "2": {"class_type": "Save", "inputs": {"model": ["1", 0]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	noCapture := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(noCapture, []byte("workflows:\n  - path: p.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	suiteFile := testutil.Path(t, "fixtures/suite.yaml")
	tests := []struct {
		name             string
		args             []string
		wantOut, wantErr string
		wantErrIO        string
		usage            bool
	}{
		{name: "url with no checkpoints on the server", args: []string{"validate", "--url", srv.URL, prompt},
			wantErr: `node 1 (CheckpointLoaderSimple) input ckpt_name: value "v1-5.safetensors" not in the target's list, which is empty [value_not_in_list]`},
		{name: "offline against the committed capture", args: []string{"validate", "--suite", suiteFile, testutil.Path(t, "fixtures/workflows/txt2img-gmm.json")},
			wantOut: "ok (", wantErrIO: "validating offline against " + testutil.Path(t, "fixtures", "workflows", "object_info.json")},
		{name: "offline capture rejects what regen-executor lacks", args: []string{"validate", "--suite", suiteFile, prompt},
			wantErr: `node 1 (CheckpointLoaderSimple) input ckpt_name: value "v1-5.safetensors" not in the target's list`},
		{name: "url of a ComfyUI: its profile, which maps no model names", args: []string{"validate", "--suite", suiteFile, "--url", comfy.URL, prompt},
			wantErr: `(it lists none); no alias applies: the suite's profile "comfyui-sd15" (the suite's profile for comfyui targets) maps no model names`},
		{name: "url that does not say what it is: the default profile, said so", args: []string{"validate", "--suite", suiteFile, "--url", srv.URL, aliased},
			wantErr: `the suite's profile "default" (the default: ` + srv.URL + ` did not answer /system_stats to say what it is, --profile names one) maps it to "regen-gmm.safetensors"`},
		{name: "offline: the regen-executor profile maps the name", args: []string{"validate", "--suite", suiteFile, aliased},
			wantErr: `the suite's profile "default" (the target is regen-executor) maps it to "regen-gmm.safetensors": a run applies that alias; to validate as the run will, pass --alias v1-5-pruned-emaonly.safetensors=regen-gmm.safetensors`},
		{name: "offline: the regen-executor profile has no alias for the name", args: []string{"validate", "--suite", suiteFile, prompt},
			wantErr: `the suite's profile "default" (the target is regen-executor) has no alias for it`},
		{name: "a named profile without aliases", args: []string{"validate", "--suite", suiteFile, "--profile", "comfyui-sd15", aliased},
			wantErr: `; no alias applies: the suite's profile "comfyui-sd15" (named by --profile) maps no model names`},
		{name: "an unknown profile", args: []string{"validate", "--suite", suiteFile, "--profile", "nope", aliased}, usage: true,
			wantErr: `unknown profile "nope"`},
		{name: "no default suite here", args: []string{"validate", prompt}, usage: true,
			wantErr: "validating needs the target's node schemas"},
		{name: "named suite without a capture", args: []string{"validate", "--suite", noCapture, prompt}, usage: true,
			wantErr: "names no object_info capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := Run(context.Background(), append([]string{"workflow"}, tt.args...), &out, &errOut)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var ue *usageError
				if errors.As(err, &ue) != tt.usage {
					t.Errorf("usage error = %v, want %v", !tt.usage, tt.usage)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v (stderr %s)", err, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErrIO) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErrIO, errOut.String())
			}
		})
	}
}
