package golden

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/atomicfile"
)

func writeCandidate(t *testing.T, dir, name, png string) (string, string) {
	t.Helper()
	p, r := filepath.Join(dir, name+".png"), filepath.Join(dir, name+".json")
	rec, err := (&Record{Case: name, Workflow: "w", Compare: []byte(`{"sha256":"` + png + `"}`)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(png), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, r
}

func TestApprove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing string // golden PNG content before approve ("" = none)
		verdict  string
		cand     string
		filter   string
		wantOp   string // "" = not selected
		wantPNG  string // golden PNG content after approve ("" = none)
	}{
		{name: "new is created", verdict: "new", cand: "A", wantOp: "created", wantPNG: "A"},
		{name: "fail is updated", existing: "OLD", verdict: "fail", cand: "B", wantOp: "updated", wantPNG: "B"},
		{name: "pass is kept", existing: "OLD", verdict: "pass", cand: "OLD", wantOp: "kept", wantPNG: "OLD"},
		{name: "pass~ is never rewritten", existing: "OLD", verdict: "pass~", cand: "NEAR", wantOp: "kept", wantPNG: "OLD"},
		{name: "error is skipped", verdict: "error", cand: "E", wantOp: "skipped"},
		{name: "filter excludes", existing: "OLD", verdict: "fail", cand: "B", filter: "^other", wantOp: "", wantPNG: "OLD"},
		{name: "filter includes", verdict: "new", cand: "C", filter: `^case\[`, wantOp: "created", wantPNG: "C"},
		{name: "golden appeared since the run", existing: "X", verdict: "new", cand: "Y", wantOp: "skipped", wantPNG: "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, runDir := t.TempDir(), t.TempDir()
			s := Store{Root: root, Class: "cpu"}
			if tt.existing != "" {
				if err := atomicfile.WriteFile(s.PNGPath("w", "f"), []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := atomicfile.WriteFile(s.RecordPath("w", "f"), []byte(`{"case":"old"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, r := writeCandidate(t, runDir, "cand", tt.cand)
			var re *regexp.Regexp
			if tt.filter != "" {
				re = regexp.MustCompile(tt.filter)
			}
			acts, err := s.Approve([]Candidate{{Case: "case[v]/seed=1", Workflow: "w", File: "f", Verdict: tt.verdict, PNG: p, Record: r}}, re)
			if err != nil {
				t.Fatalf("Approve: %v", err)
			}
			gotOp := ""
			if len(acts) == 1 {
				gotOp = acts[0].Op
			}
			if gotOp != tt.wantOp {
				t.Errorf("op = %q, want %q (%v)", gotOp, tt.wantOp, acts)
			}
			got, err := os.ReadFile(s.PNGPath("w", "f"))
			if tt.wantPNG == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("golden exists (%q, %v), want none", got, err)
				}
			} else if string(got) != tt.wantPNG {
				t.Errorf("golden = %q, want %q", got, tt.wantPNG)
			}
			if left, err := atomicfile.Leftovers(root); err != nil || len(left) > 0 {
				t.Errorf("leftovers %v %v", left, err)
			}
		})
	}
}

func TestApproveUnchangedAndLoad(t *testing.T) {
	t.Parallel()
	root, runDir := t.TempDir(), t.TempDir()
	s := Store{Root: root, Class: "cpu"}
	if _, err := s.Load("w", "f"); !errors.Is(err, ErrMissing) {
		t.Fatalf("Load of nothing = %v, want ErrMissing", err)
	}
	p, r := writeCandidate(t, runDir, "c", "PIX")
	c := Candidate{Case: "c", Workflow: "w", File: "f", Verdict: "fail", PNG: p, Record: r}
	for i, want := range []string{"created", "unchanged"} {
		acts, err := s.Approve([]Candidate{c}, nil)
		if err != nil || len(acts) != 1 || acts[0].Op != want {
			t.Fatalf("approve #%d = %v, %v; want %s", i, acts, err, want)
		}
	}
	g, err := s.Load("w", "f")
	if err != nil {
		t.Fatal(err)
	}
	if string(g.PNG) != "PIX" || g.Record.Case != "c" || !strings.Contains(string(g.Record.Compare), `"PIX"`) {
		t.Errorf("loaded %q %+v", g.PNG, g.Record)
	}
}

func TestApproveBadCandidateLeavesGoldenIntact(t *testing.T) {
	t.Parallel()
	root, runDir := t.TempDir(), t.TempDir()
	s := Store{Root: root, Class: "cpu"}
	if err := atomicfile.WriteFile(s.PNGPath("w", "f"), []byte("OLD"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, r := writeCandidate(t, runDir, "c", "NEW")
	if err := os.WriteFile(r, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Approve([]Candidate{{Case: "c", Workflow: "w", File: "f", Verdict: "fail", PNG: p, Record: r}}, nil)
	if err == nil {
		t.Fatal("approve of a corrupt record succeeded")
	}
	if got, _ := os.ReadFile(s.PNGPath("w", "f")); string(got) != "OLD" {
		t.Errorf("golden = %q, want OLD", got)
	}
	if left, _ := atomicfile.Leftovers(root); len(left) > 0 {
		t.Errorf("leftovers %v", left)
	}
}
