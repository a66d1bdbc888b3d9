package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

func TestCalibrateUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no runs", args: []string{"golden", "calibrate", "--runs", "0"}, want: "--runs must be >= 1"},
		{name: "bad filter", args: []string{"golden", "calibrate", "--filter", "("}, want: "bad --filter"},
		{name: "unknown backend", args: []string{"golden", "calibrate", "--backend", "gpu"}, want: `--backend "gpu", want cpu or cuda-emulated`},
		{name: "tf32 on cpu", args: []string{"golden", "calibrate", "--tf32"}, want: "--tf32 and --nondeterministic need --backend cuda-emulated"},
		{name: "backend with url", args: []string{"golden", "calibrate", "--backend", "cuda-emulated", "--url", "http://127.0.0.1:1"}, want: "a --url or --env target has its own"},
		{name: "run: backend with url", args: []string{"run", "--nondeterministic", "--backend", "cuda-emulated", "--url", "http://127.0.0.1:1"}, want: "a --url or --env target has its own"},
		{name: "stray argument", args: []string{"golden", "calibrate", "x"}, want: `unexpected argument "x"`},
		{name: "show without a case", args: []string{"golden", "show"}, want: "want one case id"},
		{name: "show an unknown case", args: []string{"golden", "show", "nope/seed=1", "--golden-dir", "@GOLDEN@"}, want: `no golden of case "nope/seed=1"`},
		{name: "show an unknown class", args: []string{"golden", "show", "txt2img-gmm[euler]/seed=1", "--class", "cuda-x", "--golden-dir", "@GOLDEN@"}, want: "no golden class folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for i, a := range tc.args {
				if a == "@GOLDEN@" {
					tc.args[i] = testutil.Path(t, "golden")
				}
			}
			code, out := regen(t, tc.args...)
			if code != ExitInfra || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, ExitInfra, tc.want, out)
			}
		})
	}
}

// TestCalibrateShowAndJudge calibrates the image suites' goldens on the
// local CPU executor through the CLI: a case large enough is calibrated and
// shown, the tiny solid colour with the local tier made blind is
// uncalibratable (exit 1, nothing written), and a
// run across classes without a calibration for the pair is exit 2.
func TestCalibrateShowAndJudge(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	models := emptyModels(t)
	gdir := filepath.Join(tmp, "golden")
	if err := os.Mkdir(gdir, 0o755); err != nil {
		t.Fatal(err)
	}
	cross := testutil.Path(t, "runner", "testdata", "imgsuite", "cross.yaml")
	tiny := testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml")
	for i, st := range []string{cross, tiny} {
		rep := filepath.Join(tmp, "r"+string(rune('0'+i)))
		regen(t, "run", "--suite", st, "--filter", `^(scaled|solid)/`, "--models", models, "--golden-dir", gdir, "--report", rep, "-q")
		if code, out := regen(t, "golden", "approve", "--from-run", rep, "--golden-dir", gdir); code != ExitPass {
			t.Fatalf("approve: exit %d\n%s", code, out)
		}
	}
	show := func() string {
		code, out := regen(t, "golden", "show", "scaled/seed=1", "--golden-dir", gdir)
		if code != ExitPass {
			t.Fatalf("golden show: exit %d\n%s", code, out)
		}
		return out
	}
	if out := show(); !strings.Contains(out, "no calibration") {
		t.Errorf("show before calibrating:\n%s", out)
	}
	code, out := regen(t, "golden", "calibrate", "--suite", cross, "--models", models, "--golden-dir", gdir, "--runs", "2", "--work-dir", filepath.Join(tmp, "c1"), "-q")
	if code != ExitPass || !strings.Contains(out, "CALIBRATED     scaled/seed=1") || !strings.Contains(out, "1 calibrated, 0 uncalibratable") ||
		!strings.Contains(out, "smallest control margin") {
		t.Fatalf("calibrate: exit %d\n%s", code, out)
	}
	out = show()
	for _, want := range []string{"calibration for target class cpu (its own class): N=2", "colour.mean_delta_e", "hue 3°", "seed+1", "n/a", "smallest control margin"} {
		if !strings.Contains(out, want) {
			t.Errorf("show after calibrating lacks %q:\n%s", want, out)
		}
	}
	before, _ := os.ReadFile(filepath.Join(gdir, "cpu", "solid", "default.seed-1.3-0.json"))
	// The tiny solid colour with the local tier made blind: its 0.5 %
	// patch is missed at the floors.
	blind := testutil.Path(t, "runner", "testdata", "imgsuite", "blind.yaml")
	code, out = regen(t, "golden", "calibrate", "--suite", blind, "--filter", `^solid/`, "--models", models, "--golden-dir", gdir, "--runs", "1", "--work-dir", filepath.Join(tmp, "c2"), "-q")
	if code != ExitRegression || !strings.Contains(out, "UNCALIBRATABLE solid/seed=1") || !strings.Contains(out, "missed even at the floors: patch 0.5%") ||
		!strings.Contains(out, "uncalibratable: 1 case") {
		t.Errorf("tiny solid: exit %d, want %d, uncalibratable:\n%s", code, ExitRegression, out)
	}
	if after, _ := os.ReadFile(filepath.Join(gdir, "cpu", "solid", "default.seed-1.3-0.json")); string(after) != string(before) {
		t.Error("an uncalibratable golden's record was rewritten")
	}
	// The emulated backend is another class (its image-only outputs are
	// the CPU's pixels): judged against the cpu goldens, it needs a
	// calibration for the pair first.
	emu := []string{"--suite", cross, "--models", models, "--golden-dir", gdir, "--backend", "cuda-emulated", "--nondeterministic", "-q"}
	code, out = regen(t, append([]string{"run", "--golden-class", "cpu", "--report", filepath.Join(tmp, "r8")}, emu...)...)
	if code != ExitInfra || !strings.Contains(out, "no thresholds calibrated for judging class cuda-emulated-nondet against the cpu golden") ||
		!strings.Contains(out, "judged across classes: target class cuda-emulated-nondet against the cpu goldens") {
		t.Errorf("across classes without a calibration: exit %d, want %d:\n%s", code, ExitInfra, out)
	}
	if code, out = regen(t, append([]string{"golden", "calibrate", "--against", "cpu", "--runs", "1", "--work-dir", filepath.Join(tmp, "c3")}, emu...)...); code != ExitPass {
		t.Fatalf("calibrate --against cpu: exit %d\n%s", code, out)
	}
	code, out = regen(t, append([]string{"run", "--golden-class", "cpu", "--report", filepath.Join(tmp, "r9")}, emu...)...)
	if code != ExitPass || !strings.Contains(out, "1 pass") {
		t.Errorf("across classes after calibrating: exit %d:\n%s", code, out)
	}
	if out := show(); !strings.Contains(out, "calibration for target class cuda-emulated-nondet (across classes: regen run --golden-class cpu") {
		t.Errorf("show lacks the pair's calibration:\n%s", out)
	}
}
