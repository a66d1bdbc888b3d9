package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
)

// pixels returns a small PNG whose pixels are drawn from tag, and a golden
// record that describes them.
func pixels(t testing.TB, tag string) (pngBytes, record []byte) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = tag[i%len(tag)] + byte(i)
	}
	img.Pix[3] = 255
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	rec, err := compare.NewRecord(img, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := (&Record{Case: tag, Workflow: "w", Compare: cb}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rb
}

func writeCandidate(t *testing.T, dir, name, tag string) (string, string) {
	t.Helper()
	p, r := filepath.Join(dir, name+".png"), filepath.Join(dir, name+".json")
	pb, rb := pixels(t, tag)
	if err := os.WriteFile(p, pb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r, rb, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, r
}

// writeGolden stores the golden w/f with tag's pixels.
func writeGolden(t *testing.T, s Store, tag string) {
	t.Helper()
	pb, rb := pixels(t, tag)
	if err := atomicfile.WriteFile(s.PNGPath("w", "f"), pb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(s.RecordPath("w", "f"), rb, 0o644); err != nil {
		t.Fatal(err)
	}
}

// goldenTag returns the tag whose pixels golden w/f holds ("" when absent),
// failing when its PNG and record disagree.
func goldenTag(t *testing.T, s Store, tags ...string) string {
	t.Helper()
	g, err := s.Load("w", "f")
	if errors.Is(err, ErrMissing) {
		return ""
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, tag := range tags {
		if tag == "" {
			continue
		}
		if pb, _ := pixels(t, tag); bytes.Equal(pb, g.PNG) {
			return tag
		}
	}
	return "?"
}

func TestApprove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing string // golden pixels before approve ("" = none)
		verdict  string
		cand     string
		filter   string
		wantOp   string // "" = not selected
		wantPNG  string // golden pixels after approve ("" = none)
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
				writeGolden(t, s, tt.existing)
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
			if got := goldenTag(t, s, tt.existing, tt.cand); got != tt.wantPNG {
				t.Errorf("golden holds %q, want %q", got, tt.wantPNG)
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
	if want, _ := pixels(t, "PIX"); !bytes.Equal(g.PNG, want) || g.Record.Case != "PIX" {
		t.Errorf("loaded a golden that is not the candidate: %+v", g.Record)
	}
}

func TestApproveBadCandidateLeavesGoldenIntact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, png, rec string)
		wantOp  string // "" = an error
	}{
		{name: "record is not json", corrupt: func(t *testing.T, _, rec string) {
			if err := os.WriteFile(rec, []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "pixels do not match the record", wantOp: "refused", corrupt: func(t *testing.T, p, _ string) {
			other, _ := pixels(t, "OTHER")
			if err := os.WriteFile(p, other, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, runDir := t.TempDir(), t.TempDir()
			s := Store{Root: root, Class: "cpu"}
			writeGolden(t, s, "OLD")
			p, r := writeCandidate(t, runDir, "c", "NEW")
			tt.corrupt(t, p, r)
			acts, err := s.Approve([]Candidate{{Case: "c", Workflow: "w", File: "f", Verdict: "fail", PNG: p, Record: r}}, nil)
			switch {
			case tt.wantOp == "" && err == nil:
				t.Fatalf("approve of a corrupt candidate succeeded: %v", acts)
			case tt.wantOp != "" && (err != nil || len(acts) != 1 || acts[0].Op != tt.wantOp):
				t.Fatalf("approve = %v, %v; want op %s", acts, err, tt.wantOp)
			}
			if got := goldenTag(t, s, "OLD", "NEW", "OTHER"); got != "OLD" {
				t.Errorf("golden holds %q, want OLD", got)
			}
			if left, _ := atomicfile.Leftovers(root); len(left) > 0 {
				t.Errorf("leftovers %v", left)
			}
		})
	}
}

// TestRecover builds, by hand, each state a kill can leave between the
// steps of writePair and removePair, and checks that Recover (and Load)
// end with a whole pair and no temporary file.
func TestRecover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// state makes the interrupted state in the workflow dir.
		state    func(t *testing.T, dir string)
		wantTag  string // the golden afterwards ("" = none)
		repaired int
		removed  int
	}{
		{name: "killed while writing the temporaries", wantTag: "OLD", state: func(t *testing.T, dir string) {
			pb, rb := pixels(t, "NEW")
			mustWrite(t, filepath.Join(dir, TempPrefix+"f.png-1"), pb)
			mustWrite(t, filepath.Join(dir, TempPrefix+"f.json-1"), rb[:len(rb)/2])
		}},
		{name: "killed between the renames", wantTag: "NEW", repaired: 1, state: func(t *testing.T, dir string) {
			pb, rb := pixels(t, "NEW")
			mustWrite(t, filepath.Join(dir, "f.png"), pb)
			mustWrite(t, filepath.Join(dir, TempPrefix+"f.json-2"), rb)
			// An older, unfinished attempt's record does not match.
			_, stale := pixels(t, "STALE")
			mustWrite(t, filepath.Join(dir, TempPrefix+"f.json-1"), stale)
		}},
		{name: "killed between the renames of a creation", wantTag: "NEW", repaired: 1, state: func(t *testing.T, dir string) {
			pb, rb := pixels(t, "NEW")
			if err := os.Remove(filepath.Join(dir, "f.json")); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, filepath.Join(dir, "f.png"), pb)
			mustWrite(t, filepath.Join(dir, TempPrefix+"f.json-2"), rb)
		}},
		{name: "killed in a removal", wantTag: "", removed: 1, state: func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, TempPrefix+"f"+tombstoneSuffix), nil)
			if err := os.Remove(filepath.Join(dir, "f.png")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		for _, via := range []string{"Recover", "Load"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				s := Store{Root: t.TempDir(), Class: "cpu"}
				writeGolden(t, s, "OLD")
				tt.state(t, filepath.Join(s.Dir(), "w"))
				if via == "Load" && tt.removed == 0 {
					// A reader repairs the pair it reads.
					if got := goldenTag(t, s, "OLD", "NEW"); got != tt.wantTag {
						t.Errorf("Load reads %q, want %q", got, tt.wantTag)
					}
				}
				rec, err := s.Recover()
				if err != nil {
					t.Fatalf("Recover: %v", err)
				}
				if via == "Recover" && (len(rec.Repaired) != tt.repaired || len(rec.Removed) != tt.removed) {
					t.Errorf("Recover = %+v, want %d repaired, %d removed", rec, tt.repaired, tt.removed)
				}
				if got := goldenTag(t, s, "OLD", "NEW"); got != tt.wantTag {
					t.Errorf("golden holds %q, want %q", got, tt.wantTag)
				}
				if left, _ := atomicfile.Leftovers(s.Root); len(left) > 0 {
					t.Errorf("leftovers %v", left)
				}
			})
		}
	}
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadHalfPresentOrTorn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		state   func(t *testing.T, s Store)
		wantErr error
		wantMsg string
	}{
		{name: "png without record", wantErr: ErrNoRecord, wantMsg: "has no record f.json", state: func(t *testing.T, s Store) {
			if err := os.Remove(s.RecordPath("w", "f")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "record without png", wantErr: ErrNoRecord, wantMsg: "has no PNG f.png", state: func(t *testing.T, s Store) {
			if err := os.Remove(s.PNGPath("w", "f")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "png replaced by hand", wantErr: ErrTorn, wantMsg: "restore both from git", state: func(t *testing.T, s Store) {
			pb, _ := pixels(t, "HAND")
			mustWrite(t, s.PNGPath("w", "f"), pb)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Store{Root: t.TempDir(), Class: "cpu"}
			writeGolden(t, s, "OLD")
			tt.state(t, s)
			_, err := s.Load("w", "f")
			if !errors.Is(err, tt.wantErr) || errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Load = %v; want %v saying %q, never ErrMissing", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestApproveProgressAndCleanup(t *testing.T) {
	t.Parallel()
	root, runDir := t.TempDir(), t.TempDir()
	s := Store{Root: root, Class: "cpu"}
	writeGolden(t, s, "OLD")
	// A leftover of a killed approve: removed by the next one.
	mustWrite(t, filepath.Join(s.Dir(), "w", TempPrefix+"f.png-9"), []byte("x"))
	var cands []Candidate
	for _, tag := range []string{"A", "B", "C"} {
		p, r := writeCandidate(t, runDir, tag, tag)
		cands = append(cands, Candidate{Case: tag, Workflow: "w" + tag, File: "f", Verdict: "new", PNG: p, Record: r})
	}
	var seen []int
	acts, err := s.Approve(cands, regexp.MustCompile("A|C"), WithProgress(func(done, total int, a Action) {
		if total != 2 {
			t.Errorf("total = %d, want 2", total)
		}
		seen = append(seen, done)
	}))
	if err != nil || len(acts) != 2 {
		t.Fatalf("Approve = %v, %v", acts, err)
	}
	if len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
		t.Errorf("progress %v, want [1 2]", seen)
	}
	if left, _ := atomicfile.Leftovers(root); len(left) > 0 {
		t.Errorf("leftovers %v", left)
	}
}
