package workflow

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

func mustObjectInfo(tb testing.TB, names ...string) ObjectInfo {
	tb.Helper()
	info := ObjectInfo{}
	for _, n := range names {
		oi, err := LoadObjectInfo(filepath.Join("testdata", n))
		if err != nil {
			tb.Fatalf("load object info: %v", err)
		}
		info = info.Merge(oi)
	}
	return info
}

func mustLoad(tb testing.TB, name string) *Workflow {
	tb.Helper()
	w, err := Load(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	return w
}

// jsonValue decodes data (or marshals v first) into a generic JSON value,
// so that two documents compare independently of key order and number form.
func jsonValue(tb testing.TB, v any) any {
	tb.Helper()
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			tb.Fatalf("marshal: %v", err)
		}
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		tb.Fatalf("unmarshal: %v", err)
	}
	return out
}

func TestConvertGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ui, want string
		info           []string
		update         bool
	}{
		{name: "sd15 default matches comfy-cli's expected conversion", ui: "ui-sd15-default.json",
			want: "ui-sd15-default.expected-api.json", info: []string{"object-info-sd15.json"}},
		{name: "img2img", ui: "ui-img2img.json", want: "ui-img2img.api.json",
			info: []string{"object-info-sd15.json", "object-info-img2img.json"}, update: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mustLoad(t, tt.ui)
			if w.Format != FormatUI {
				t.Fatalf("format = %q, want ui", w.Format)
			}
			got, err := w.Prompt(mustObjectInfo(t, tt.info...))
			if err != nil {
				t.Fatalf("convert: %v", err)
			}
			wantPath := filepath.Join("testdata", tt.want)
			if testutil.Update() && tt.update {
				b, err := got.Indent()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(wantPath, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("read golden: %v", err)
			}
			if g, w := jsonValue(t, got), jsonValue(t, want); !reflect.DeepEqual(g, w) {
				b, _ := got.Indent()
				t.Errorf("conversion differs from %s; got:\n%s", tt.want, b)
			}
		})
	}
}

func TestConvertImg2imgDetails(t *testing.T) {
	t.Parallel()
	p, err := mustLoad(t, "ui-img2img.json").Prompt(mustObjectInfo(t, "object-info-sd15.json", "object-info-img2img.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p["18"].Inputs; !reflect.DeepEqual(got, map[string]any{"image": "example.png"}) {
		t.Errorf("LoadImage inputs = %v, want only image=example.png (the upload button value dropped)", got)
	}
	ks := p["16"].Inputs
	if ks["seed"] != json.Number("881719264574257") || ks["scheduler"] != "simple" || ks["steps"] != json.Number("20") {
		t.Errorf("KSampler inputs = %v", ks)
	}
	if id, slot, ok := AsLink(ks["latent_image"]); !ok || id != "17" || slot != 0 {
		t.Errorf("latent_image = %v, want [17 0]", ks["latent_image"])
	}
}

func TestConvertRejectsSubgraphs(t *testing.T) {
	t.Parallel()
	_, err := mustLoad(t, "ui-subgraph-template.json").Prompt(mustObjectInfo(t, "object-info-sd15.json"))
	var ce *ConversionError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConversionError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"d33c1791-dfd2-4102-8540-aa63e4434cd2", "f2228dc9-64e8-43b1-a4ca-b8a57eed8f64", "da09b826-d678-40e0-a4e4-5f2178043ab6",
		`subgraph "New Subgraph"`, `"Batch Prompt Iterator"`, `10 "Generate Image 1"`, `19 "Generate Image 2"`,
		"the target lacks node types used inside it", "GeminiImage2Node (node 10:9, 19:9)",
		"6d92985e-3e1e-49e2-acea-91c5259d86a8 (node 19:3) is not in the target's /object_info (a subgraph whose definition is missing",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(ce.Subgraphs) != 3 {
		t.Errorf("subgraphs = %+v, want 3 (two top-level, one nested)", ce.Subgraphs)
	}
}
