package history_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/images"
	"github.com/regen-dev/regen/runner/history/sqlite"
	"github.com/regen-dev/regen/runner/report"
)

func writePNG(t *testing.T, path string, c color.Color) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 128, 128))
	for i := 0; i < 128*128; i++ {
		img.Set(i%128, i/128, c)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecorderThumbnails: a run recorded with images kept gets a thumbnail
// per trend point of a case whose output was kept, none for a case whose
// output was not (no candidate, no golden), and none past the budget.
func TestRecorderThumbnails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "h.db"), sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runDir := filepath.Join(dir, "run")
	if err := os.MkdirAll(filepath.Join(runDir, "candidates"), 0o755); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(dir, "golden.png")
	writePNG(t, golden, color.RGBA{0, 128, 255, 255})
	writePNG(t, filepath.Join(runDir, "candidates", "a.png"), color.RGBA{255, 0, 0, 255})
	mk := func(commit string, at int, aFails bool) *report.Run {
		r := run(commit, at, map[string]report.Verdict{"a": report.Pass, "b": report.Pass})
		r.Cases[0].Outputs[0].Golden = golden // an exact pass keeps its golden
		if aFails {
			r.Cases[0].Verdict, r.Cases[0].Outputs[0].Verdict = report.Fail, report.Fail
			r.Cases[0].Outputs[0].Candidate = "candidates/a.png"
		}
		return r // b: neither candidate nor golden, nothing kept
	}
	imgs := &images.Store{Dir: filepath.Join(dir, "images")}
	rec := &history.Recorder{Store: s, Images: imgs}
	for i, r := range []*report.Run{mk("c1", 1, false), mk("c2", 2, true)} {
		if err := rec.Consume(ctx, runDir, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	last := mk("c3", 3, true)
	if err := rec.Consume(ctx, runDir, last); err != nil {
		t.Fatal(err)
	}
	a, b := last.Cases[0].Trend, last.Cases[1].Trend
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("trends of %d and %d points, want 3", len(a), len(b))
	}
	for i, tp := range a {
		if !strings.HasPrefix(tp.Thumb, images.DataURIPrefix) {
			t.Errorf("a at %s: no thumbnail (%.30q)", tp.Commit, tp.Thumb)
		}
		if i > 0 && tp.Thumb == a[0].Thumb {
			t.Errorf("a at %s: the failing output's thumbnail is the golden's", tp.Commit)
		}
	}
	if a[1].Thumb != a[2].Thumb {
		t.Errorf("the same output at c2 and c3 gives two thumbnails")
	}
	for _, tp := range b {
		if tp.Thumb != "" {
			t.Errorf("b at %s: a thumbnail where nothing was kept", tp.Commit)
		}
	}
	// A budget for one thumbnail: the newest commit gets it.
	tight := &history.Recorder{Store: s, Images: imgs, ThumbBudget: len(a[2].Thumb)}
	one := mk("c5", 5, true)
	if err := tight.Consume(ctx, runDir, one); err != nil {
		t.Fatal(err)
	}
	for i, tp := range one.Cases[0].Trend {
		if newest := i == len(one.Cases[0].Trend)-1; (tp.Thumb != "") != newest {
			t.Errorf("budget for one: a at %s has a thumbnail %v, want %v", tp.Commit, tp.Thumb != "", newest)
		}
	}
	// Without images, the strip is badges only.
	plain := &history.Recorder{Store: s}
	again := mk("c4", 4, true)
	if err := plain.Consume(ctx, runDir, again); err != nil {
		t.Fatal(err)
	}
	for _, tp := range again.Cases[0].Trend {
		if tp.Thumb != "" {
			t.Errorf("a thumbnail at %s without --history-images", tp.Commit)
		}
	}
}

func TestThumbsBudgetAndPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "h.db"), sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	imgs := images.Store{Dir: filepath.Join(dir, "images")}
	p := filepath.Join(dir, "x.png")
	writePNG(t, p, color.White)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := imgs.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	hr := history.FromReport(run("c1", 1, map[string]report.Verdict{"a": report.Pass, "b": report.Pass}), history.SourceRun)
	hr.Cases[0].Outputs[0].Image = kept
	hr.Cases[1].Outputs[0].Image = strings.Repeat("0", 64) // pruned since
	if err := s.Record(ctx, hr); err != nil {
		t.Fatal(err)
	}
	th := &history.Thumbs{Store: s, Images: imgs}
	uri, err := th.Of(ctx, history.State{Case: "a", RunID: hr.ID})
	if err != nil || uri == "" {
		t.Fatalf("kept image: %q, %v", uri, err)
	}
	if got, err := th.Of(ctx, history.State{Case: "b", RunID: hr.ID}); err != nil || got != "" {
		t.Errorf("pruned image: %q, %v; want a badge, no error", got, err)
	}
	small := &history.Thumbs{Store: s, Images: imgs, Budget: len(uri) + 1}
	for i, want := range []bool{true, false} {
		got, err := small.Of(ctx, history.State{Case: "a", RunID: hr.ID})
		if err != nil || (got != "") != want {
			t.Errorf("use %d: thumbnail %v, want %v (%v)", i, got != "", want, err)
		}
	}
	if _, err := th.Of(ctx, history.State{Case: "a", RunID: "no-such-run"}); err == nil {
		t.Error("a run that is not recorded: no error")
	}
}
