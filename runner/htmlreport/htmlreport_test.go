package htmlreport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
			{ID: hostile + "/seed=1", Workflow: hostile, Verdict: report.Fail, Tier: "structure", Reason: "structure: hash " + hostile,
				Outputs: []report.Output{{Node: "9", File: "default.seed-1.9-0", Verdict: report.Fail, Tier: "structure", Reason: "structure: hash " + hostile,
					Key: &report.Metric{Name: "hash_bits", Value: 40, Threshold: 24}, Golden: gold("bad"),
					Candidate: cand("bad", color.NRGBA{200, 30, 30, 255}), Diff: diff("bad"), Metrics: metrics, Thresholds: thresholds,
					Compare: []byte(`{"verdict":"fail","tiers":[` +
						`{"tier":"exact","status":"differs","metrics":[]},` +
						`{"tier":"provenance","status":"pass","note":"1 sampler matches the plan"},` +
						`{"tier":"colour","status":"pass","metrics":[{"name":"mean_delta_e","value":1.5,"threshold":3,"gated":true}]},` +
						`{"tier":"structure","status":"fail","metrics":[{"name":"hash_bits","value":40,"threshold":24,"gated":true,"over":true}]}]}`)}}},
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
		if !regexp.MustCompile(`<tr class="over"><td><code>hash_bits</code></td><td>40</td><td>≤ 24</td>`).MatchString(doc) {
			t.Error("hash_bits over its threshold is not highlighted")
		}
		if strings.Contains(doc, `<tr class="over"><td><code>mean_delta_e</code>`) {
			t.Error("a metric within its threshold is highlighted")
		}
	})
	t.Run("metrics grouped by tier in tier order", func(t *testing.T) {
		panel := doc[strings.Index(doc, `<section class="panel fail"`):]
		panel = panel[:strings.Index(panel, "</section>")]
		last := -1
		for _, tier := range []string{"exact", "provenance", "colour", "structure"} {
			i := strings.Index(panel, `<th class="tier" colspan="3">`+tier)
			if i < 0 || i < last {
				t.Fatalf("tier %s missing or out of order in:\n%s", tier, panel)
			}
			last = i
		}
		if !strings.Contains(panel, "1 sampler matches the plan") {
			t.Error("the provenance tier's note is not shown")
		}
		// Without the comparator's result, the flattened "tier.metric"
		// names are grouped the same way.
		close := doc[strings.Index(doc, `<section class="panel approx"`):]
		if !strings.Contains(close[:strings.Index(close, "</section>")], `<th class="tier" colspan="3">local</th>`) {
			t.Error("the pass~ case's metrics are not grouped under their tier")
		}
	})
	t.Run("totals: each count beside its badge", func(t *testing.T) {
		for _, want := range []string{
			`<span class="badge pass">PASS</span><b>1</b>`, `<span class="badge approx">PASS~</span><b>1</b>`,
			`<span class="badge fail">FAIL</span><b>1</b>`, `<span class="badge error">ERROR</span><b>1</b>`,
			`<span class="badge new">NEW</span><b>1</b>`, `<span class="badge skip">SKIP</span><b>1</b>`,
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("totals lack %s", want)
			}
		}
	})
	t.Run("one view at a time", func(t *testing.T) {
		// .imgs is display:flex, which beat the hidden attribute: slider
		// and blink showed beside the side-by-side view.
		if !strings.Contains(doc, "[hidden]{display:none !important}") {
			t.Error("hidden views are not forced out of the layout")
		}
		if n := strings.Count(doc, `-slider" hidden>`) + strings.Count(doc, `-blink" hidden>`); n != 4 {
			t.Errorf("%d slider/blink views start hidden, want 4", n)
		}
		if !strings.Contains(doc, "image-rendering:pixelated") || !strings.Contains(doc, `id="zoom"`) {
			t.Error("images are not shown pixelated with click to zoom")
		}
	})
	t.Run("reason said once", func(t *testing.T) {
		if strings.Contains(doc, "structure — structure:") {
			t.Error(`"structure — structure:" repeats the tier`)
		}
		esc := html.EscapeString("structure: hash " + hostile)
		if n := strings.Count(doc, esc); n != 1 {
			t.Errorf("the fail reason is shown %d times, want once", n)
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

// TestWriteShowsWhatTheRunJudged: a report regenerated after the goldens
// changed shows the golden the run judged against (its copy) and warns;
// one whose golden is gone says so.
func TestWriteShowsWhatTheRunJudged(t *testing.T) {
	t.Parallel()
	for _, change := range []string{"changed", "missing"} {
		t.Run(change, func(t *testing.T) {
			t.Parallel()
			runDir, r := syntheticRun(t)
			c := &r.Cases[1].Outputs[0] // pass~
			judged, err := os.ReadFile(c.Golden)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(judged)
			c.GoldenSHA256 = hex.EncodeToString(sum[:])
			c.GoldenCopy = filepath.Join("goldens", "close", "default.seed-1.9-0.png")
			if err := os.MkdirAll(filepath.Join(runDir, "goldens", "close"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(runDir, c.GoldenCopy), judged, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := report.Write(runDir, r); err != nil {
				t.Fatal(err)
			}
			var warned []string
			if err := Write(context.Background(), runDir, Options{Warn: func(m string) { warned = append(warned, m) }}); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(filepath.Join(runDir, File))
			if err != nil {
				t.Fatal(err)
			}
			if len(warned) != 0 || strings.Contains(string(before), "changed since this run") {
				t.Fatalf("warnings with the goldens unchanged: %v", warned)
			}
			if change == "changed" {
				writePNG(t, c.Golden, 256, 256, color.NRGBA{200, 200, 10, 255})
			} else if err := os.Remove(c.Golden); err != nil {
				t.Fatal(err)
			}
			if err := Write(context.Background(), runDir, Options{Warn: func(m string) { warned = append(warned, m) }}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(runDir, File))
			if err != nil {
				t.Fatal(err)
			}
			doc := string(b)
			want := map[string]string{"changed": "changed since this run", "missing": "is missing today"}[change]
			if len(warned) != 1 || !strings.Contains(warned[0], want) || !strings.Contains(doc, want) {
				t.Errorf("warnings %v; want one saying %q, in the report too", warned, want)
			}
			// The expected image is still the one the run judged against.
			// html/template writes '+' in a URL as &#43;.
			if !strings.Contains(doc, `-exp" src="`+strings.ReplaceAll(string(pngURI(judged)), "+", "&#43;")+`"`) {
				t.Error("the report does not show the golden the run judged against")
			}
		})
	}
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

func TestWriteSaysWhichClassJudged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target string
		cross        bool
	}{
		{name: "same class", target: "cpu"},
		{name: "no target class recorded", target: ""},
		{name: "across classes", target: "cuda-emulated-nondet", cross: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runDir, r := syntheticRun(t)
			r.TargetClass = tc.target
			if err := report.Write(runDir, r); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "r.html")
			if err := Write(context.Background(), runDir, Options{Out: out}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := "judged across classes, a <code>cuda-emulated-nondet</code> target against the <code>cpu</code> goldens"
			if got := strings.Contains(string(b), want); got != tc.cross {
				t.Errorf("report says %q: %v, want %v", want, got, tc.cross)
			}
		})
	}
}
