package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"

	"github.com/regen-dev/regen/internal/testutil"
)

// approverEnv makes the test binary act as `regen golden approve` with the
// arguments in REGEN_TEST_APPROVER_ARGS (one a line): the subprocess
// TestApproveSurvivesSIGKILL kills.
const approverEnv = "REGEN_TEST_APPROVER"

func TestMain(m *testing.M) {
	if os.Getenv(approverEnv) == "1" {
		args := strings.Split(os.Getenv(approverEnv+"_ARGS"), "\n")
		err := Run(context.Background(), args, io.Discard, os.Stderr)
		os.Exit(ExitCode(err, os.Stderr))
	}
	os.Exit(m.Run())
}

// killCase is one golden of the kill test: workflow directory and file.
type killCase struct{ workflow, file string }

// tinyPair returns an 8×8 PNG drawn from tag and its golden record.
func tinyPair(t testing.TB, c killCase, tag string) (pngBytes, record []byte) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	seed := uint64(0)
	for _, b := range []byte(tag + c.workflow + c.file) {
		seed = seed*131 + uint64(b)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range img.Pix {
		img.Pix[i] = byte(r.UintN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	// The store reads only the pixel hash of the comparator's record.
	cb, err := json.Marshal(map[string]any{"version": 1, "sha256": compare.PixelSHA256(img), "width": 8, "height": 8})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := (&golden.Record{Case: c.workflow + "/" + c.file, Workflow: c.workflow, Compare: cb}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rb
}

func gitIn(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// writeKillRun writes a finished run in runDir whose every case failed
// with a candidate drawn from tag.
func writeKillRun(t testing.TB, runDir, goldenDir string, cases []killCase, tag string) map[killCase][]byte {
	t.Helper()
	run := &report.Run{Environment: "cpu", GoldenDir: goldenDir}
	pngs := map[killCase][]byte{}
	for _, c := range cases {
		pb, rb := tinyPair(t, c, tag)
		pngs[c] = pb
		rel := filepath.Join("candidates", c.workflow, c.file)
		if err := os.MkdirAll(filepath.Join(runDir, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, rel+".png"), pb, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, rel+".json"), rb, 0o644); err != nil {
			t.Fatal(err)
		}
		run.Cases = append(run.Cases, report.Case{ID: c.workflow + "/" + c.file, Workflow: c.workflow, Verdict: report.Fail,
			Outputs: []report.Output{{File: c.file, Verdict: report.Fail, Tier: "colour", Candidate: rel + ".png", CandidateRecord: rel + ".json"}}})
	}
	if err := report.Write(runDir, run); err != nil {
		t.Fatal(err)
	}
	return pngs
}

// fastTempDir is a temporary directory in memory (/dev/shm) where there is
// one: SIGKILL leaves the page cache alone, so fsync's cost on a slow disk
// would only slow the kill test down, not change what it proves.
func fastTempDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "regen-killtest-")
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// TestApproveSurvivesSIGKILL approves 320 changed goldens in a git repo
// with `regen golden approve` in a subprocess and kills it with SIGKILL at
// random moments. After each kill, before any cleanup: git status shows
// no stray file, and every golden reads back (Load) as a PNG that matches
// its record, holding either its old or its new pixels; after the next
// approve's recovery (Recover), no temporary file is left and every pair
// matches on disk without help.
func TestApproveSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: -short")
	}
	const nCases, wantKills = 320, 20
	repo := fastTempDir(t)
	gitignore, err := os.ReadFile(testutil.Path(t, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".gitignore"), gitignore, 0o644); err != nil {
		t.Fatal(err)
	}
	goldenDir := filepath.Join(repo, "golden")
	store := golden.Store{Root: goldenDir, Class: "cpu"}
	var cases []killCase
	for i := range nCases {
		cases = append(cases, killCase{workflow: fmt.Sprintf("wf%02d", i%16), file: fmt.Sprintf("default.seed-%d.9-0", i)})
	}
	// cur holds, per golden, the PNGs it may hold now (old, new).
	cur := map[killCase][][]byte{}
	for _, c := range cases {
		pb, rb := tinyPair(t, c, "initial")
		if err := os.MkdirAll(filepath.Dir(store.PNGPath(c.workflow, c.file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(store.PNGPath(c.workflow, c.file), pb, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(store.RecordPath(c.workflow, c.file), rb, 0o644); err != nil {
			t.Fatal(err)
		}
		cur[c] = [][]byte{pb}
	}
	gitIn(t, repo, "init", "-q")
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "goldens")

	approve := func(runDir string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), approverEnv+"=1",
			approverEnv+"_ARGS="+strings.Join([]string{"golden", "approve", "--from-run", runDir, "--golden-dir", goldenDir}, "\n"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		return cmd
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	var full time.Duration
	kills, torn := 0, 0
	for round := 0; kills < wantKills && round < 4*wantKills; round++ {
		tag := fmt.Sprintf("round-%d", round)
		runDir := filepath.Join(fastTempDir(t), "run")
		next := writeKillRun(t, runDir, goldenDir, cases, tag)
		cmd := approve(runDir)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		if round > 0 {
			// A random moment within a whole approve's duration.
			time.Sleep(time.Duration(rng.Int64N(int64(full))))
			killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		}
		werr := cmd.Wait()
		if round == 0 {
			if werr != nil {
				t.Fatalf("approve: %v\n%s", werr, cmd.Stderr)
			}
			full = time.Since(start)
			t.Logf("a whole approve of %d changed goldens takes %v", nCases, full)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && killed {
			kills++
		} else if round > 0 {
			// It finished before the kill: approves run faster once warm,
			// so aim the next kills within this one's duration.
			full = min(full, time.Since(start)*9/10)
		}
		for _, c := range cases {
			cur[c] = append(cur[c][:1:1], next[c])
		}

		// Before any cleanup: nothing for git to pick up but the goldens.
		for _, line := range strings.Split(strings.TrimRight(gitIn(t, repo, "status", "--porcelain", "--untracked-files=all"), "\n"), "\n") {
			if line != "" && !strings.HasPrefix(line, " M golden/cpu/") {
				t.Fatalf("round %d: git status shows %q", round, line)
			}
		}
		// Count the pairs a kill tore, then read each through Load, which
		// repairs the pair it reads.
		for _, c := range cases {
			pb, _ := os.ReadFile(store.PNGPath(c.workflow, c.file))
			rb, _ := os.ReadFile(store.RecordPath(c.workflow, c.file))
			if golden.CheckPair(pb, rb) != nil {
				torn++
			}
		}
		for _, c := range cases {
			g, err := store.Load(c.workflow, c.file)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if !bytes.Equal(g.PNG, cur[c][0]) && !bytes.Equal(g.PNG, cur[c][1]) {
				t.Fatalf("round %d: %s/%s holds neither its old nor its new pixels", round, c.workflow, c.file)
			}
			cur[c] = [][]byte{g.PNG}
		}
		// What the next approve (or run) does first.
		if _, err := store.Recover(); err != nil {
			t.Fatalf("round %d: recover: %v", round, err)
		}
		if left, err := atomicfile.Leftovers(goldenDir); err != nil || len(left) > 0 {
			t.Fatalf("round %d: leftovers after recovery: %v %v", round, left, err)
		}
		for _, c := range cases {
			pb, _ := os.ReadFile(store.PNGPath(c.workflow, c.file))
			rb, _ := os.ReadFile(store.RecordPath(c.workflow, c.file))
			if err := golden.CheckPair(pb, rb); err != nil {
				t.Fatalf("round %d: %s/%s after recovery: %v", round, c.workflow, c.file, err)
			}
		}
	}
	t.Logf("%d kills; %d torn pairs seen before repair, all repaired", kills, torn)
	if kills < wantKills {
		t.Fatalf("only %d of %d approves were killed mid-way", kills, wantKills)
	}
}
