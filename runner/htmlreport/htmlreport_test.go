package htmlreport

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/runner/report"
)

const hostile = `<script>alert("x")</script>`

// writePNG writes a w×h image filled with c (a stripe of another colour
// so images differ) and returns its path.
func writePNG(t *testing.T, path string, w, h int, c color.NRGBA) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
			if x < w/4 {
				img.SetNRGBA(x, y, color.NRGBA{255 - c.R, 255 - c.G, 255 - c.B, 255})
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// syntheticRun makes a run directory with one case of every verdict, the
// fail case under a hostile workflow name, and returns it with its record.
func syntheticRun(t *testing.T) (string, *report.Run) {
	t.Helper()
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	gold := func(name string) string {
		return writePNG(t, filepath.Join(dir, "golden", "cpu", name+".png"), 256, 256, color.NRGBA{40, 90, 200, 255})
	}
	cand := func(name string, c color.NRGBA) string {
		writePNG(t, filepath.Join(runDir, "candidates", name+".png"), 64, 64, c)
		return filepath.Join("candidates", name+".png")
	}
	diff := func(name string) string {
		writePNG(t, filepath.Join(runDir, "candidates", name+".diff.png"), 64, 64, color.NRGBA{255, 0, 0, 255})
		return filepath.Join("candidates", name+".diff.png")
	}
	metrics := map[string]float64{"structure.hash_bits": 40, "colour.mean_delta_e": 1.5}
	thresholds := map[string]float64{"structure.hash_bits": 24, "colour.mean_delta_e": 3}
	start := time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)
	r := &report.Run{
		Started: start, Finished: start.Add(12 * time.Second), WallSeconds: 12,
		Git: report.Git{Commit: "0123456789abcdef", Dirty: true}, Target: "http://127.0.0.1:8188", Environment: "cpu",
		Fingerprint: []byte(`{"system":{"comfyui_version":"regen-executor"},"devices":[{"name":"Xeon","type":"cpu"}],"regen":{"fingerprint":{"backend":"cpu","class":"cpu"}}}`),
		Suite:       "fixtures/suite.yaml", GoldenDir: filepath.Join(dir, "golden"), Concurrency: 1,
		Cases: []report.Case{
			{ID: "ok/seed=1", Workflow: "ok", Verdict: report.Pass, Tier: "exact", TotalSeconds: 1.2,
				Outputs: []report.Output{{Node: "9", File: "default.seed-1.9-0", Verdict: report.Pass, Golden: gold("ok")}}},
			{ID: "close/seed=1", Workflow: "close", Verdict: report.PassApprox, Tier: "local",
				Outputs: []report.Output{{Node: "9", File: "default.seed-1.9-0", Verdict: report.PassApprox, Tier: "local",
					Key: &report.Metric{Name: "window_ratio", Value: 0.01, Threshold: 0.02}, Golden: gold("close"),
					Candidate: cand("close", color.NRGBA{41, 90, 200, 255}), Diff: diff("close"),
					Metrics: map[string]float64{"local.window_ratio": 0.01}, Thresholds: map[string]float64{"local.window_ratio": 0.02}}}},
			{ID: hostile + "/seed=1", Workflow: hostile, Verdict: report.Fail, Tier: "structure", Reason: "hash " + hostile,
				Outputs: []report.Output{{Node: "9", File: "default.seed-1.9-0", Verdict: report.Fail, Tier: "structure",
					Key: &report.Metric{Name: "hash_bits", Value: 40, Threshold: 24}, Golden: gold("bad"),
					Candidate: cand("bad", color.NRGBA{200, 30, 30, 255}), Diff: diff("bad"), Metrics: metrics, Thresholds: thresholds}}},
			{ID: "fresh/seed=1", Workflow: "fresh", Verdict: report.New,
				Outputs: []report.Output{{Node: "9", File: "default.seed-1.9-0", Verdict: report.New, Candidate: cand("fresh", color.NRGBA{9, 9, 9, 255})}}},
			{ID: "broken/seed=1", Workflow: "broken", Verdict: report.Error, Error: "executor unreachable"},
			{ID: "later/seed=1", Workflow: "later", Verdict: report.Skip, Skip: "needs a GPU"},
		},
	}
	if err := report.Write(runDir, r); err != nil {
		t.Fatal(err)
	}
	return runDir, r
}

var (
	tagRE  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>`)
	attrRE = regexp.MustCompile(`\s(src|href)="([^"]*)"`)
	voids  = map[string]bool{"meta": true, "img": true, "input": true, "br": true, "hr": true, "link": true}
)

// checkBalanced checks that every non-void element is closed in order,
// skipping the contents of script and style elements.
func checkBalanced(t *testing.T, doc string) {
	t.Helper()
	var stack []string
	for i := 0; i < len(doc); {
		loc := tagRE.FindStringSubmatchIndex(doc[i:])
		if loc == nil {
			break
		}
		closing, name := doc[i+loc[2]:i+loc[3]] == "/", strings.ToLower(doc[i+loc[4]:i+loc[5]])
		i += loc[1]
		switch {
		case voids[name]:
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("unbalanced </%s> at %d; open: %v", name, i, stack)
			}
			stack = stack[:len(stack)-1]
		case name == "script" || name == "style":
			end := strings.Index(doc[i:], "</"+name+">")
			if end < 0 {
				t.Fatalf("<%s> never closed", name)
			}
			i += end + len(name) + 3
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements: %v", stack)
	}
}

func TestWrite(t *testing.T) {
	runDir, r := syntheticRun(t)
	if err := Write(context.Background(), runDir, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(runDir, File))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	t.Run("well formed", func(t *testing.T) {
		if !strings.HasPrefix(doc, "<!doctype html>") {
			t.Fatalf("no doctype: %.40q", doc)
		}
		checkBalanced(t, doc)
	})
	t.Run("every case", func(t *testing.T) {
		for _, c := range r.Cases {
			if !strings.Contains(doc, `data-id="`+html.EscapeString(c.ID)+`"`) {
				t.Errorf("case %q missing from the table", c.ID)
			}
		}
		if n := strings.Count(doc, "<tr data-verdict="); n != len(r.Cases) {
			t.Errorf("%d table rows, want %d", n, len(r.Cases))
		}
		for _, want := range []string{"0123456789abcdef", "dirty", "class=cpu", "executor unreachable", "needs a GPU"} {
			if !strings.Contains(doc, want) {
				t.Errorf("report lacks %q", want)
			}
		}
	})
	t.Run("escapes user data", func(t *testing.T) {
		if strings.Contains(doc, hostile) || strings.Contains(doc, `alert("x")`) {
			t.Fatal("hostile workflow name embedded unescaped")
		}
		if !strings.Contains(doc, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Fatal("hostile workflow name not shown escaped")
		}
		if n := strings.Count(doc, "<script>"); n != 1 {
			t.Fatalf("%d <script> elements, want the report's own one", n)
		}
	})
	t.Run("self-contained", func(t *testing.T) {
		attrs := attrRE.FindAllStringSubmatch(doc, -1)
		if len(attrs) == 0 {
			t.Fatal("no src or href attributes")
		}
		for _, a := range attrs {
			if !strings.HasPrefix(a[2], "data:image/png;base64,") && !strings.HasPrefix(a[2], "#") {
				t.Errorf("%s=%q is not embedded", a[1], a[2])
			}
		}
		if strings.Contains(doc, "url(") || strings.Contains(doc, "@import") {
			t.Error("CSS fetches something")
		}
	})
	t.Run("images", func(t *testing.T) {
		// pass~ and fail: expected, actual, diff; new: actual; pass: one
		// thumbnail.
		if n := strings.Count(doc, `src="data:image/png;base64,`); n != 3+3+1+1 {
			t.Errorf("%d embedded images, want 8", n)
		}
		for _, view := range []string{`-slider"`, `-blink"`} {
			if n := strings.Count(doc, view); n != 2 {
				t.Errorf("%d %s views, want 2 (pass~, fail)", n, view)
			}
		}
		thumb := regexp.MustCompile(`<div class="thumbs"><figure><img src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(doc)
		if thumb == nil {
			t.Fatal("no thumbnail for the passing case")
		}
		raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(thumb[1]))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != DefaultThumbSize || cfg.Height != DefaultThumbSize {
			t.Errorf("thumbnail %d×%d, want %d² (golden is 256²)", cfg.Width, cfg.Height, DefaultThumbSize)
		}
	})
	t.Run("over threshold highlighted", func(t *testing.T) {
		if !regexp.MustCompile(`<tr class="over"><td><code>structure.hash_bits</code></td><td>40</td><td>≤ 24</td>`).MatchString(doc) {
			t.Error("hash_bits over its threshold is not highlighted")
		}
		if strings.Contains(doc, `<tr class="over"><td><code>colour.mean_delta_e</code>`) {
			t.Error("a metric within its threshold is highlighted")
		}
	})
	t.Run("atomic", func(t *testing.T) {
		left, err := atomicfile.Leftovers(runDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
}

func TestWriteOut(t *testing.T) {
	runDir, _ := syntheticRun(t)
	out := filepath.Join(t.TempDir(), "r.html")
	if err := Write(context.Background(), runDir, Options{Out: out}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(runDir, File)); !os.IsNotExist(err) {
		t.Fatalf("report.html written in the run dir too: %v", err)
	}
	if err := Write(context.Background(), t.TempDir(), Options{}); err == nil {
		t.Fatal("no error for a directory without results.json")
	}
}

func TestThumbnail(t *testing.T) {
	tests := []struct {
		name       string
		w, h, size int
		wantW      int
		wantH      int
	}{
		{"square", 512, 512, 96, 96, 96},
		{"landscape", 512, 256, 96, 96, 48},
		{"portrait", 100, 400, 96, 24, 96},
		{"already small", 64, 32, 96, 64, 32},
		{"thin", 1000, 3, 96, 96, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := image.NewNRGBA(image.Rect(0, 0, tt.w, tt.h))
			got, err := Thumbnail(img, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("%d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
	if _, err := Thumbnail(image.NewNRGBA(image.Rect(0, 0, 4, 4)), 0); err == nil {
		t.Fatal("no error for size 0")
	}
}
