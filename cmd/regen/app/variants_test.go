package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/htmlreport"
	"github.com/regen-dev/regen/runner/variants"
)

func TestVariantsUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no workflow", args: []string{"variants"}, want: "--workflow is required"},
		{name: "missing workflow", args: []string{"variants", "--workflow", "nope.json"}, want: "nope.json"},
		{name: "bad steps", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--steps", "ten"}, want: "bad --steps"},
		{name: "bad cfg", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--cfg", "x"}, want: "bad --cfg"},
		{name: "bad size", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--size", "65x64"}, want: "bad --size"},
		{name: "duplicate sampler", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--samplers", "euler,euler"}, want: "listed twice"},
		{name: "url and env", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--env", "local", "--url", "http://127.0.0.1:1"}, want: "exclusive"},
		{name: "unknown env", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--env", "mars"}, want: `unknown environment "mars"`},
		// variants reaches every environment run does, through the same factory.
		{name: "overlay env without cluster", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--env", "gpu", "--kustomize", testutil.Path(t, "kustomize"), "--kubeconfig", "/nonexistent/kubeconfig", "--out", "@TMP@"}, want: "kubeconfig /nonexistent/kubeconfig: no cluster to deploy to"},
		{name: "bad seeds", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--seeds", "1,x"}, want: `--seeds: "x" is not a seed`},
		{name: "duplicate seed", args: []string{"variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--seeds", "2,2"}, want: "--seeds: 2 twice"},
		{name: "report without subcommand", args: []string{"report"}, want: "no subcommand"},
		{name: "report unknown subcommand", args: []string{"report", "pdf"}, want: `unknown subcommand "pdf"`},
		{name: "report html of no run", args: []string{"report", "html", "/nonexistent"}, want: "finished `regen run`"},
		{name: "report html bad flag", args: []string{"report", "html", "/nonexistent", "--nope"}, want: "Try: regen report html -h"},
		{name: "report html two run dirs", args: []string{"report", "html", "a", "--out", "x.html", "b"}, want: `unexpected argument "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "@TMP@" {
					args[i] = t.TempDir()
				}
			}
			code, out := regen(t, args...)
			if code != ExitInfra || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, output %q; want 2 and %q", code, out, tt.want)
			}
		})
	}
}

func TestVariantsUnreachableURL(t *testing.T) {
	t.Parallel()
	code, out := regen(t, "variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--url", "http://127.0.0.1:1", "--suite", testutil.Path(t, "fixtures", "suite.yaml"),
		"--out", t.TempDir(), "-q")
	if code != ExitInfra || !strings.Contains(out, "executor unreachable") {
		t.Errorf("exit %d, output %q; want 2 and executor unreachable", code, out)
	}
}

func TestVariantsCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("replays on the in-process executor")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "v")
	code, msg := regen(t, "variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--samplers", "euler,heun", "--schedulers", "normal,karras",
		"--steps", "3", "--size", "64x64", "--seed", "5", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--models", testutil.Path(t, "fixtures", "models"),
		"--out", out, "-q")
	if code != ExitPass || !strings.Contains(msg, "4 variants of txt2img-gmm") {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	for _, f := range []string{variants.SheetFile, variants.CSVFile, variants.JSONFile, variants.HTMLFile, "results.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// The variants' run directory is a run directory: its HTML report can
	// be regenerated.
	html := filepath.Join(t.TempDir(), "r.html")
	code, msg = regen(t, "report", "html", out, "--out", html)
	if code != ExitPass || !strings.Contains(msg, html) {
		t.Fatalf("report html: exit %d\n%s", code, msg)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"txt2img-gmm[euler.normal.s3]/seed=5", "txt2img-gmm[heun.karras.s3]/seed=5"} {
		if !strings.Contains(string(b), id) {
			t.Errorf("report lacks %s", id)
		}
	}
	if _, err := os.Stat(filepath.Join(out, htmlreport.File)); err != nil {
		t.Errorf("the run itself wrote no %s: %v", htmlreport.File, err)
	}
}

// TestVariantsSeedsAndReference: --seeds runs every variant on each seed
// and averages the distances with their spread; --reference ranks the
// variants against one of them.
func TestVariantsSeedsAndReference(t *testing.T) {
	if testing.Short() {
		t.Skip("replays on the in-process executor")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "v")
	code, msg := regen(t, "variants", "--workflow", testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), "--samplers", "euler,heun", "--schedulers", "normal",
		"--steps", "3", "--size", "64x64", "--seeds", "5,6", "--reference", "heun.normal.s3", "--suite", testutil.Path(t, "fixtures", "suite.yaml"),
		"--models", testutil.Path(t, "fixtures", "models"), "--out", out, "-q")
	if code != ExitPass || !strings.Contains(msg, "distance to heun.normal.s3") || !strings.Contains(msg, "1. euler.normal.s3") || !strings.Contains(msg, "/2 seeds") {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	b, err := os.ReadFile(filepath.Join(out, variants.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Seeds  []uint64                     `json:"seeds"`
		Spread map[string][][]variants.Stat `json:"spread"`
		Rank   []variants.Ranked            `json:"ranking"`
		Cells  []struct {
			Case string `json:"case"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Seeds) != 2 || res.Spread["icon_y"][0][1].N != 2 || len(res.Rank) != 1 || len(res.Rank[0].Verdicts) != 2 {
		t.Errorf("distances.json: seeds %v, spread %+v, ranking %+v", res.Seeds, res.Spread["icon_y"], res.Rank)
	}
}
