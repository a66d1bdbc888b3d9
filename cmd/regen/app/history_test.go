package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/runner/history/images"

	"github.com/regen-dev/regen/internal/testutil"
)

func TestRunRecordsHistoryAndImport(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	models := emptyModels(t)
	gdir := filepath.Join(tmp, "golden")
	db := filepath.Join(tmp, "hist", "history.db")
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		t.Fatal(err)
	}
	runArgs := func(report string, extra ...string) []string {
		return append([]string{"run", "--suite", testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml"), "--filter", `^(solid|invert)/`, "--models", models,
			"--golden-dir", gdir, "--report", filepath.Join(tmp, report), "-q"}, extra...)
	}
	if code, out := regen(t, runArgs("r1")...); code != ExitInfra {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	if code, out := regen(t, "golden", "approve", "--from-run", filepath.Join(tmp, "r1")); code != ExitPass {
		t.Fatalf("approve: exit %d\n%s", code, out)
	}
	imgs := filepath.Join(tmp, "hist", "images")
	if code, out := regen(t, runArgs("r2", "--history", db, "--history-images", imgs)...); code != ExitPass {
		t.Fatalf("recorded run: exit %d\n%s", code, out)
	}
	// solid's output and invert's two, kept by content (invert's preview
	// and save are the same pixels, maybe the same bytes).
	kept, _ := filepath.Glob(filepath.Join(imgs, "*", "*.png"))
	if len(kept) < 2 || len(kept) > 3 {
		t.Errorf("kept images: %v", kept)
	}
	stray, err := (images.Store{Dir: imgs}).Put([]byte("an image no run references"))
	if err != nil {
		t.Fatal(err)
	}
	code, out := regen(t, "history", "prune", "--history", db, "--images", imgs, "--keep", "1")
	if code != ExitPass || !strings.Contains(out, "removed 1") {
		t.Errorf("prune: exit %d\n%s", code, out)
	}
	if _, err := os.Stat((images.Store{Dir: imgs}).Path(stray)); !os.IsNotExist(err) {
		t.Errorf("the unreferenced image survived the prune: %v", err)
	}
	if after, _ := filepath.Glob(filepath.Join(imgs, "*", "*.png")); len(after) != len(kept) {
		t.Errorf("prune removed referenced images: %v -> %v", kept, after)
	}
	// The kept outputs are thumbnails in the report's strip and, given
	// --images, in history.html; without it, badges only.
	page, err := os.ReadFile(filepath.Join(tmp, "r2", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `<img class="hs-thumb pass" src="data:image/png;base64,`); n != 2 {
		t.Errorf("report.html: %d thumbnails in the history strips, want 2 (solid, invert)", n)
	}
	for _, tc := range []struct {
		name  string
		extra []string
		want  int
	}{{"with --images", []string{"--images", imgs}, 2}, {"without", nil, 0}} {
		out := filepath.Join(tmp, "history-"+strings.TrimPrefix(tc.name, "with")+".html")
		args := append([]string{"report", "history", "--history", db, "--out", out}, tc.extra...)
		if code, msg := regen(t, args...); code != ExitPass {
			t.Fatalf("report history %s: exit %d\n%s", tc.name, code, msg)
		}
		page, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(page), `<img class="thumb" src="data:image/png;base64,`); n != tc.want {
			t.Errorf("history.html %s: %d thumbnails, want %d", tc.name, n, tc.want)
		}
	}
	// Import both runs: r2 is there already, r1 is added.
	code, out = regen(t, "history", "import", "--history", db, filepath.Join(tmp, "r1"), filepath.Join(tmp, "r2"))
	if code != ExitPass || !strings.Contains(out, "imported 1 run(s)") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	code, out = regen(t, "history", "--history", db, "--json")
	if code != ExitPass {
		t.Fatalf("history: exit %d\n%s", code, out)
	}
	var lines []entryJSON
	if err := json.Unmarshal([]byte(out), &lines); err != nil {
		t.Fatalf("history --json: %v\n%s", err, out)
	}
	// Both runs are of this checkout's commit: one line, the latest state
	// of each case (r1's new verdicts, imported last, are the latest).
	if len(lines) != 1 || lines[0].Runs != 2 || lines[0].Counts["new"] != 2 {
		t.Errorf("history: %+v", lines)
	}
	code, out = regen(t, "history", "--history", db, "--case", "solid/seed=1")
	if code != ExitPass || strings.Count(out, "\n") != 2 || !strings.Contains(out, "new") {
		t.Errorf("history --case: exit %d\n%s", code, out)
	}
	if code, out := regen(t, "history", "--history", db, "--case", "nope/seed=1"); code != ExitInfra || !strings.Contains(out, "no recorded run") {
		t.Errorf("unknown case: exit %d\n%s", code, out)
	}
}

func TestHistoryStoreErrorsAreExit2(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	corrupt := filepath.Join(tmp, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("garbage ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(tmp, "missing.db")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"run on a corrupt store fails before running", []string{"run", "--suite", testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml"), "--models", emptyModels(t),
			"--report", filepath.Join(tmp, "r"), "--history", corrupt, "-q"}, []string{"corrupt", corrupt}},
		{"history of a corrupt store", []string{"history", "--history", corrupt}, []string{"corrupt", corrupt}},
		{"history of a missing store is not created", []string{"history", "--history", missing}, []string{"not found", missing}},
		{"unreachable postgres", []string{"history", "--history", "postgres://u:pw@127.0.0.1:1/h?connect_timeout=2"},
			[]string{"unreachable", "127.0.0.1:1"}},
		{"no store", []string{"history", "--history", ""}, []string{"no history store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out := regen(t, tt.args...)
			if code != ExitInfra {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "pw@") {
				t.Errorf("the password leaked:\n%s", out)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("reading a missing store created it")
	}
	if _, err := os.Stat(filepath.Join(tmp, "r", "results.json")); err == nil {
		t.Error("the run went ahead on a corrupt store")
	}
}
