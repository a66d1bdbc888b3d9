package image

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

// touch creates empty files (and folders) under dir.
func touch(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listDir returns the sorted names in dir.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

var fixedNow = time.Date(2026, 3, 7, 8, 9, 5, 0, time.Local)

func TestPlanSaveCounter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing []string
		prefix   string
		batch    int
		want     int
	}{
		{"empty folder", nil, "ComfyUI", 1, 1},
		{"continues after highest", []string{"ComfyUI_00001_.png", "ComfyUI_00007_.png", "ComfyUI_00003_.png"}, "ComfyUI", 1, 8},
		{"case-insensitive", []string{"comfyui_00041_.png"}, "ComfyUI", 1, 42},
		{"other prefixes ignored", []string{"ComfyUIx_00050_.png", "Other_00090_.png", "ComfyUI_00002_.png"}, "ComfyUI", 1, 3},
		{"longer prefix sharing the start ignored", []string{"ComfyUI_temp_abcde_00009_.png"}, "ComfyUI", 1, 1},
		{"non-numeric counts as zero", []string{"ComfyUI_final.png"}, "ComfyUI", 1, 1},
		{"any extension counts", []string{"ComfyUI_00012_.webp"}, "ComfyUI", 1, 13},
		{"batch_num looks at every batch name", []string{"img_0_00004_.png", "img_1_00005_.png"}, "img_%batch_num%", 2, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			touch(t, dir, tt.existing...)
			p, err := planSave(tt.prefix, dir, 64, 32, tt.batch, fixedNow)
			if err != nil {
				t.Fatalf("planSave: %v", err)
			}
			if p.counter != tt.want {
				t.Fatalf("counter = %d, want %d", p.counter, tt.want)
			}
		})
	}
}

func TestPlanSavePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		prefix        string
		wantSubfolder string
		wantFile      string // first file name
		wantErr       string
	}{
		{"plain", "ComfyUI", "", "ComfyUI_00001_.png", ""},
		{"subfolder", "runs/a/img", "runs/a", "img_00001_.png", ""},
		{"trailing slash names the file", "runs/", "", "runs_00001_.png", ""},
		{"dot dot inside stays inside", "a/../b/img", "b", "img_00001_.png", ""},
		{"size substitution", "%width%x%height%/s", "64x32", "s_00001_.png", ""},
		{"date substitution", "%year%-%month%-%day%_%hour%%minute%%second%", "", "2026-03-07_080905_00001_.png", ""},
		{"batch num", "b%batch_num%", "", "b0_00001_.png", ""},
		{"escape refused", "../outside/img", "", "", "outside the output folder"},
		{"deep escape refused", "a/../../img", "", "", "outside the output folder"},
		{"absolute refused", "/tmp/img", "", "", "outside the output folder"},
		{"dot dot alone refused", "..", "", "", "outside the output folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p, err := planSave(tt.prefix, dir, 64, 32, 1, fixedNow)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("planSave: %v", err)
			}
			if p.subfolder != tt.wantSubfolder || p.fileName(0) != tt.wantFile {
				t.Fatalf("got %q / %q, want %q / %q", p.subfolder, p.fileName(0), tt.wantSubfolder, tt.wantFile)
			}
			if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tt.wantSubfolder))); err != nil || !fi.IsDir() {
				t.Fatalf("subfolder not created: %v", err)
			}
		})
	}
}

// saveEnv returns an Env with temp output/temp folders and some metadata.
func saveEnv(t testing.TB) *node.Env {
	t.Helper()
	return &node.Env{
		Dirs:   node.Dirs{Output: t.TempDir(), Temp: t.TempDir(), Input: t.TempDir()},
		Prompt: json.RawMessage(`{"9":{"class_type":"SaveImage","inputs":{"filename_prefix":"Zoë","images":["8",0]}},"8":{"class_type":"VAEDecode","inputs":{}}}`),
		ExtraPNGInfo: []node.KV{
			{Key: "workflow", Value: json.RawMessage(`{"nodes":[{"id":9,"title":"Save ☃"}],"version":0.4}`)},
			{Key: "author", Value: json.RawMessage(`"me"`)},
		},
	}
}

func gradientImage(n, h, w int) *node.Image {
	img := node.NewImage(n, h, w, 3)
	for i := range img.Pix {
		img.Pix[i] = float32(i%256) / 255
	}
	return img
}

func TestSaveImageExecute(t *testing.T) {
	t.Parallel()
	env := saveEnv(t)
	touch(t, env.Dirs.Output, "run/ComfyUI_00004_.png", "run/ignored.txt")
	n := &saveNode{now: func() time.Time { return fixedNow }}
	res, err := n.Execute(context.Background(), env, map[string]any{
		"images":          gradientImage(2, 5, 7),
		"filename_prefix": "run/ComfyUI",
	})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	want := []any{
		node.ImageRef{Filename: "ComfyUI_00005_.png", Subfolder: "run", Type: "output"},
		node.ImageRef{Filename: "ComfyUI_00006_.png", Subfolder: "run", Type: "output"},
	}
	if !slices.Equal(res.UI["images"], want) {
		t.Fatalf("UI = %v, want %v", res.UI["images"], want)
	}
	if got := listDir(t, filepath.Join(env.Dirs.Output, "run")); !slices.Equal(got, []string{"ComfyUI_00004_.png", "ComfyUI_00005_.png", "ComfyUI_00006_.png", "ignored.txt"}) {
		t.Fatalf("files = %v (temporary files left?)", got)
	}
	data, err := os.ReadFile(filepath.Join(env.Dirs.Output, "run", "ComfyUI_00006_.png"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := pngmeta.ReadText(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pngmeta.ReadText: %v", err)
	}
	wantText := []string{
		`prompt={"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "Zo\u00eb", "images": ["8", 0]}}, "8": {"class_type": "VAEDecode", "inputs": {}}}`,
		`workflow={"nodes": [{"id": 9, "title": "Save \u2603"}], "version": 0.4}`,
		`author="me"`,
	}
	var gotText []string
	for _, kv := range text {
		gotText = append(gotText, kv.Key+"="+string(kv.Value))
	}
	if !slices.Equal(gotText, wantText) {
		t.Fatalf("text chunks:\n%s\nwant\n%s", strings.Join(gotText, "\n"), strings.Join(wantText, "\n"))
	}
	// The second sample is what was saved as _00006_.
	want1, err := pngmeta.Encode(gradientImage(2, 5, 7), 1, text, saveLevel)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want1) {
		t.Fatalf("file bytes differ from pngmeta.Encode of sample 1")
	}
}

func TestSaveImageMetadataSwitches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mutate   func(*node.Env)
		wantKeys []string
	}{
		{"all", func(*node.Env) {}, []string{"prompt", "workflow", "author"}},
		{"disabled", func(e *node.Env) { e.DisableMetadata = true }, nil},
		{"no prompt", func(e *node.Env) { e.Prompt = nil }, []string{"workflow", "author"}},
		{"no extra", func(e *node.Env) { e.ExtraPNGInfo = nil }, []string{"prompt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := saveEnv(t)
			tt.mutate(env)
			n := &saveNode{}
			if _, err := n.Execute(context.Background(), env, map[string]any{"images": gradientImage(1, 2, 2), "filename_prefix": "m"}); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			f, err := os.Open(filepath.Join(env.Dirs.Output, "m_00001_.png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			text, err := pngmeta.ReadText(f)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, kv := range text {
				keys = append(keys, kv.Key)
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Fatalf("keys = %v, want %v", keys, tt.wantKeys)
			}
		})
	}
}

func TestSaveImageDeterministic(t *testing.T) {
	t.Parallel()
	read := func() []byte {
		env := saveEnv(t)
		if _, err := (&saveNode{}).Execute(context.Background(), env, map[string]any{"images": gradientImage(1, 16, 16), "filename_prefix": "d"}); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		b, err := os.ReadFile(filepath.Join(env.Dirs.Output, "d_00001_.png"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := read(), read(); !bytes.Equal(a, b) {
		t.Fatalf("two saves of the same input differ")
	}
}

func TestSaveImageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"escape", map[string]any{"images": gradientImage(1, 2, 2), "filename_prefix": "../x"}, "outside the output folder"},
		{"empty batch", map[string]any{"images": node.NewImage(0, 2, 2, 3), "filename_prefix": "x"}, "empty batch"},
		{"missing images", map[string]any{"filename_prefix": "x"}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := saveEnv(t)
			_, err := (&saveNode{}).Execute(context.Background(), env, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if got := listDir(t, env.Dirs.Output); len(got) != 0 {
				t.Fatalf("files written on error: %v", got)
			}
		})
	}
}

func TestPreviewImage(t *testing.T) {
	t.Parallel()
	env := saveEnv(t)
	n := &saveNode{preview: true, rand: bytes.NewReader(bytes.Repeat([]byte{0}, 64))}
	res, err := n.Execute(context.Background(), env, map[string]any{"images": gradientImage(1, 4, 4)})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	ref := res.UI["images"][0].(node.ImageRef)
	if ref.Type != "temp" || ref.Subfolder != "" || ref.Filename != "ComfyUI_temp_aaaaa_00001_.png" {
		t.Fatalf("ref = %+v", ref)
	}
	if _, err := os.Stat(filepath.Join(env.Dirs.Temp, ref.Filename)); err != nil {
		t.Fatalf("preview not in temp dir: %v", err)
	}
	if got := listDir(t, env.Dirs.Output); len(got) != 0 {
		t.Fatalf("preview wrote into output: %v", got)
	}
	// With real randomness: 5 letters of ComfyUI's alphabet.
	res, err = (&saveNode{preview: true}).Execute(context.Background(), env, map[string]any{"images": gradientImage(1, 4, 4)})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	name := res.UI["images"][0].(node.ImageRef).Filename
	suffix, ok := strings.CutPrefix(name, "ComfyUI_temp_")
	if !ok || len(suffix) != len("abcde_00001_.png") || strings.Trim(suffix[:5], previewAlphabet) != "" {
		t.Fatalf("preview name %q", name)
	}
	if spec := n.Spec(); spec.Name != "PreviewImage" || !spec.OutputNode || len(spec.Inputs) != 1 {
		t.Fatalf("spec = %+v", spec)
	}
}

func TestImageNodesSpecs(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(Nodes()...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	want := []string{"ImageBatch", "ImageInvert", "ImageScale", "LoadImage", "PreviewImage", "SaveImage", "SaveImageWebsocket", "SolidColorImage"}
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	save, _ := reg.Get("SaveImage")
	s := save.Spec()
	in, ok := s.Input("filename_prefix")
	if !ok || in.Default != "ComfyUI" || in.Type != node.TypeString || !s.OutputNode || s.Category != "image" || len(s.Hidden) != 2 {
		t.Fatalf("SaveImage spec = %+v", s)
	}
	scale, _ := reg.Get("ImageScale")
	s = scale.Spec()
	if w, _ := s.Input("width"); w.Default != int64(512) || *w.Min != 0 || *w.Max != node.MaxResolution || s.Category != "image/upscaling" {
		t.Fatalf("ImageScale spec = %+v", s)
	}
	if m, _ := s.Input("upscale_method"); !slices.Equal(m.Combo, []string{"nearest-exact", "bilinear", "area", "bicubic", "lanczos"}) {
		t.Fatalf("upscale methods = %v", m.Combo)
	}
	load, _ := reg.Get("LoadImage")
	if in, _ := load.Spec().Input("image"); in.ComboFolder != "input" || !in.ImageUpload || len(load.Spec().Outputs) != 2 {
		t.Fatalf("LoadImage spec = %+v", load.Spec())
	}
}
