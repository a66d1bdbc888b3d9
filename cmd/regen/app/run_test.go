package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/target/local"
)

func emptyModels(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// regen runs the CLI and returns its exit code and output.
func regen(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, &out, &errb)
	code := ExitCode(err, &errb)
	return code, out.String() + errb.String()
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		// A cluster environment without a reachable cluster fails at once,
		// naming what is missing (the target's preflight).
		{name: "cluster env without cluster", args: []string{"run", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--env", "gpu", "--kustomize", testutil.Path(t, "kustomize"), "--kubeconfig", "/nonexistent/kubeconfig", "--report", "@TMP@"}, want: "kubeconfig /nonexistent/kubeconfig: no cluster to deploy to"},
		{name: "unknown env", args: []string{"run", "--env", "mars"}, want: `unknown environment "mars"`},
		{name: "unknown env lists the overlays", args: []string{"run", "--env", "mars", "--kustomize", testutil.Path(t, "kustomize")}, want: "want local, comfyui, comfyui-cpu, dev, gpu, prod (the overlays under"},
		{name: "bad cluster mode", args: []string{"run", "--cluster", "docker"}, want: `unknown cluster mode "docker"`},
		{name: "url and env", args: []string{"run", "--env", "local", "--url", "http://127.0.0.1:1"}, want: "exclusive"},
		{name: "bad filter", args: []string{"run", "--filter", "("}, want: "bad --filter"},
		{name: "zero timeout", args: []string{"run", "--timeout", "0"}, want: "run: --timeout 0s: want a positive duration"},
		{name: "negative timeout", args: []string{"run", "--timeout", "-1s"}, want: "run: --timeout -1s: want a positive duration"},
		{name: "calibrate zero timeout", args: []string{"golden", "calibrate", "--timeout", "0"}, want: "golden calibrate: --timeout 0s: want a positive duration"},
		{name: "bad seeds", args: []string{"run", "--seeds", "1,x"}, want: "bad --seeds"},
		{name: "bad url", args: []string{"run", "--url", "localhost:8188"}, want: "http(s)://"},
		{name: "missing suite", args: []string{"run", "--suite", "nope.yaml"}, want: "nope.yaml"},
		{name: "unknown profile lists the suite's", args: []string{"run", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--profile", "comfyui-sdxl"}, want: `run: --profile: unknown profile "comfyui-sdxl": the suite defines default, comfyui-sd15`},
		{name: "unknown profile with --list", args: []string{"run", "--list", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--profile", "nope"}, want: "Try: regen run --profile comfyui-sd15"},
		{name: "golden without subcommand", args: []string{"golden"}, want: "no subcommand"},
		{name: "approve without run", args: []string{"golden", "approve", "--from-run", "/nonexistent"}, want: "finished `regen run`"},
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

// perturbed brightens a patch of every IMAGE a node outputs.
type perturbed struct{ node.Node }

func (p perturbed) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	res, err := p.Node.Execute(ctx, env, in)
	if err != nil {
		return res, err
	}
	for i, o := range res.Outputs {
		if im, ok := o.(*node.Image); ok {
			cp := *im
			cp.Pix = append([]float32(nil), im.Pix...)
			for y := 0; y < min(6, cp.H); y++ {
				for x := 0; x < min(6, cp.W); x++ {
					cp.Pix[cp.At(0, y, x)] = min(1, cp.Pix[cp.At(0, y, x)]+0.1)
				}
			}
			res.Outputs[i] = &cp
		}
	}
	return res, nil
}

func TestRunExitCodesAndApprove(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	models := emptyModels(t)
	gdir := filepath.Join(tmp, "golden")
	runArgs := func(report string) []string {
		// ws (SaveImageWebsocket) is left to the runner's tests, which
		// retry the executor's websocket registration race.
		return []string{"run", "--suite", testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml"), "--filter", `^(solid|invert|skipped)/`, "--models", models,
			"--golden-dir", gdir, "--report", filepath.Join(tmp, report), "-q"}
	}

	// 0. A --golden-dir that does not exist is refused, not every case new.
	code, out := regen(t, runArgs("r0")...)
	if code != ExitInfra || !strings.Contains(out, "--golden-dir "+gdir+" does not exist") || strings.Contains(out, "NEW") {
		t.Fatalf("missing golden dir: exit %d\n%s", code, out)
	}
	if err := os.Mkdir(gdir, 0o755); err != nil {
		t.Fatal(err)
	}
	// 1. No goldens yet: exit 2, and the message says how to approve.
	code, out = regen(t, runArgs("r1")...)
	if code != ExitInfra || !strings.Contains(out, "regen golden approve --from-run "+filepath.Join(tmp, "r1")) {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	for _, f := range []string{"results.json", "junit.xml", "summary.txt"} {
		if _, err := os.Stat(filepath.Join(tmp, "r1", f)); err != nil {
			t.Errorf("report file: %v", err)
		}
	}
	// 2. Approve: goldens created.
	code, out = regen(t, "golden", "approve", "--from-run", filepath.Join(tmp, "r1"))
	if code != ExitPass || !strings.Contains(out, "3 created") {
		t.Fatalf("approve: exit %d\n%s", code, out)
	}
	// 3. Replay: exit 0, every case passes bit-exactly.
	code, out = regen(t, append(runArgs("r2"), "--strict")...)
	if code != ExitPass || !strings.Contains(out, "2 pass") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	// Approving a run where everything passed says so in one line.
	code, out = regen(t, "golden", "approve", "--from-run", filepath.Join(tmp, "r2"))
	if code != ExitPass || strings.Count(out, "\n") != 1 || !strings.Contains(out, "nothing to approve") {
		t.Fatalf("approve of a passing run: exit %d\n%s", code, out)
	}
	// A report dir that holds an earlier run's candidates is cleared of
	// what that run wrote; one holding anything else is refused.
	if _, err := os.Stat(filepath.Join(tmp, "r1", "candidates")); err != nil {
		t.Fatalf("r1 has no candidates: %v", err)
	}
	code, out = regen(t, append(runArgs("r1"), "--strict")...)
	if code != ExitPass {
		t.Fatalf("rerun into r1: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "r1", "candidates")); !os.IsNotExist(err) {
		t.Errorf("the earlier run's candidates are still in r1 (%v)", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = regen(t, append(runArgs("r2"), "--report", tmp)...)
	if code != ExitInfra || !strings.Contains(out, "notes.txt") || !strings.Contains(out, "which no regen run wrote") {
		t.Fatalf("run into a foreign dir: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "notes.txt")); err != nil {
		t.Errorf("a file regen did not write was removed: %v", err)
	}
	// 4. A fault-injected ImageScale: exit 1 naming the case and its tier.
	faulty := func() (*node.Registry, error) {
		all := nodes.Builtin()
		for i, n := range all {
			if n.Spec().Name == "ImageScale" {
				all[i] = perturbed{n}
			}
		}
		return node.NewRegistry(all...)
	}
	var ob, eb bytes.Buffer
	tgt := local.New(local.Options{Models: models, WorkDir: filepath.Join(tmp, "r3"), Registry: faulty, Logger: testutil.Logger()})
	err := runWithTarget(context.Background(), Streams{Out: &ob, Err: &eb}, runArgs("r3")[1:], tgt)
	if code := ExitCode(err, &eb); code != ExitRegression {
		t.Fatalf("fault run: exit %d: %v\n%s", code, err, ob.String())
	}
	msg := err.Error()
	for _, want := range []string{"solid/seed=1 (", "1 case regressed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("regression message %q lacks %q", msg, want)
		}
	}
	if !strings.Contains(ob.String(), "FAIL   solid/seed=1") {
		t.Errorf("summary:\n%s", ob.String())
	}
	// 5. Approve only solid's new look; a passing golden is kept.
	code, out = regen(t, "golden", "approve", "--from-run", filepath.Join(tmp, "r3"), "--filter", `^(solid|invert)/`)
	if code != ExitPass || !strings.Contains(out, "1 updated") || !strings.Contains(out, "2 kept") {
		t.Fatalf("filtered approve: exit %d\n%s", code, out)
	}
	// 6. The real executor now differs from solid's approved golden.
	code, out = regen(t, runArgs("r4")...)
	if code != ExitRegression || !strings.Contains(out, "FAIL   solid/seed=1") || strings.Contains(out, "FAIL   invert") {
		t.Fatalf("after filtered approve: exit %d\n%s", code, out)
	}
}

func TestRunUnreachableURL(t *testing.T) {
	t.Parallel()
	code, out := regen(t, "run", "--suite", testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml"), "--url", "http://127.0.0.1:1", "--report", t.TempDir(), "--golden-dir", t.TempDir())
	if code != ExitInfra || !strings.Contains(out, "executor unreachable") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestRunMissingCheckpoint(t *testing.T) {
	t.Parallel()
	models := emptyModels(t)
	data, err := os.ReadFile(testutil.Path(t, "fixtures", "models", "checkpoints", "regen-gmm.safetensors"))
	if err != nil {
		t.Skipf("no fixture models: %v", err)
	}
	if err := os.WriteFile(filepath.Join(models, "checkpoints", "regen-gmm.safetensors"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	gdir := t.TempDir()
	code, out := regen(t, "run", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--filter", `^txt2img-els/`,
		"--models", models, "--golden-dir", gdir, "--report", t.TempDir(), "-q")
	if code != ExitInfra || !strings.Contains(out, `"regen-els.safetensors"`) {
		t.Errorf("exit %d, want 2 naming the missing checkpoint:\n%s", code, out)
	}
	if entries, _ := os.ReadDir(gdir); len(entries) != 0 {
		t.Errorf("the golden dir was written: %v", entries)
	}
}

func TestRunList(t *testing.T) {
	t.Parallel()
	code, out := regen(t, "run", "--list", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--filter", `^(txt2img-gmm\[euler\]|ui-sd15-default)/`, "--seeds", "3")
	if code != ExitPass {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"txt2img-gmm[euler]/seed=3  [", "ui-sd15-default/seed=3  [", "sampler-euler", "2 cases"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestRunListProfile(t *testing.T) {
	t.Parallel()
	suitePath := testutil.Path(t, "fixtures", "suite.yaml")
	// --list asks a --url what it is, as a run does: these answer
	// /system_stats as a real ComfyUI and as regen-executor do.
	stats := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.TrimPrefix(r.URL.Path, "/api") != "/system_stats" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	comfy := stats(`{"system": {"os": "posix", "comfyui_version": "0.3.64"}, "devices": []}`)
	regenExec := stats(`{"system": {"os": "linux"}, "devices": [], "regen": {"fingerprint": {"class": "cpu"}}}`)
	tests := []struct {
		name      string
		args      []string
		wantLines []string
		notWant   []string
	}{
		{name: "local: regen-executor, aliases to the fixtures", args: nil,
			wantLines: []string{"profile: default (the target is regen-executor)", "ui-sd15-default/seed=1  [ckpt-regen-gmm, gmm,"},
			notWant:   []string{"(skip: profile", "api-sd15-default/seed=1  [ckpt-v1-5"}},
		{name: "url of a ComfyUI: its profile, as a run picks it", args: []string{"--url", comfy},
			wantLines: []string{"profile: comfyui-sd15 (the suite's profile for comfyui targets)", "ui-sd15-default/seed=1  [ckpt-v1-5-pruned-emaonly-fp16,",
				"(skip: profile comfyui-sd15 skips label els)"},
			notWant: []string{"profile: default", "[ckpt-regen-gmm"}},
		{name: "url of a regen-executor: the default profile", args: []string{"--url", regenExec},
			wantLines: []string{"profile: default (the target is regen-executor)", "ui-sd15-default/seed=1  [ckpt-regen-gmm, gmm,"}},
		{name: "cluster env: not deployed, said to be unresolved", args: []string{"--env", "dev", "--kustomize", testutil.Path(t, "kustomize")},
			wantLines: []string{"profile: default (not resolved: --list does not deploy cluster dev to ask what it is;"}},
		{name: "comfyui-sd15: real checkpoints, regen's own skipped", args: []string{"--profile", "comfyui-sd15"},
			wantLines: []string{"profile: comfyui-sd15 (named by --profile)", "ui-sd15-default/seed=1  [ckpt-v1-5-pruned-emaonly-fp16,",
				"txt2img-els/seed=1  [ckpt-regen-els, els,", "(skip: profile comfyui-sd15 skips label els)"},
			notWant: []string{"api-sd15-default/seed=1  [ckpt-regen-gmm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out := regen(t, append([]string{"run", "--list", "--suite", suitePath, "--filter", `^(ui-sd15-default|txt2img-els|api-sd15-default)/`}, tt.args...)...)
			if code != ExitPass || !strings.Contains(out, "3 cases") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			for _, w := range tt.wantLines {
				if !strings.Contains(out, w) {
					t.Errorf("list lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("list has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRunListUnreachableURL: a --url that does not answer cannot be asked
// what it is; --list says so instead of listing the default profile.
func TestRunListUnreachableURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	code, out := regen(t, "run", "--list", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--url", srv.URL)
	if code != ExitInfra || !strings.Contains(out, "run --list: ask "+srv.URL+" what it is") || strings.Contains(out, "profile: default") {
		t.Fatalf("exit %d, want 2 and the probe's failure:\n%s", code, out)
	}
	// --profile needs no probe.
	if code, out := regen(t, "run", "--list", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--url", srv.URL, "--profile", "comfyui-sd15"); code != ExitPass ||
		!strings.Contains(out, "profile: comfyui-sd15 (named by --profile)") {
		t.Fatalf("exit %d with --profile, want 0:\n%s", code, out)
	}
}

func TestRunSaysItsProfile(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	report := filepath.Join(tmp, "r")
	code, out := regen(t, "run", "--suite", testutil.Path(t, "runner", "testdata", "imgsuite", "suite.yaml"), "--filter", `^solid/`,
		"--models", emptyModels(t), "--golden-dir", tmp, "--report", report)
	if code != ExitInfra || strings.Count(out, "profile: ") != 1 || !strings.Contains(out, "profile: default (the target is regen-executor)\n") {
		t.Fatalf("exit %d, want 2 (a new case) and the profile said once:\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(report, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"profile": "default"`, `"target_kind": "regen-executor"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results.json lacks %s", want)
		}
	}
}

func TestRunLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		labels []string // every case listed carries one of these
		want   string   // the count line
	}{
		{name: "one label", args: []string{"--label", "lora"}, labels: []string{"lora"}, want: "3 cases"},
		{name: "comma-separated", args: []string{"--label", "lora,batch"}, labels: []string{"lora", "batch"}, want: "4 cases"},
		{name: "repeated", args: []string{"--label", "lora", "--label", "batch"}, labels: []string{"lora", "batch"}, want: "4 cases"},
		{name: "with filter", args: []string{"--label", "lora", "--filter", "^api-"}, labels: []string{"lora"}, want: "1 case\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out := regen(t, append([]string{"run", "--suite", testutil.Path(t, "fixtures/suite.yaml"), "--list"}, tt.args...)...)
			if code != ExitPass || !strings.HasSuffix(out, tt.want) && !strings.Contains(out, "\n"+tt.want) {
				t.Fatalf("exit %d, want 0 and %q:\n%s", code, tt.want, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.Contains(line, "[") {
					continue
				}
				ok := false
				for _, l := range tt.labels {
					ok = ok || strings.Contains(line, " "+l+",") || strings.Contains(line, "["+l+",") || strings.Contains(line, " "+l+"]")
				}
				if !ok {
					t.Errorf("listed a case without %v: %s", tt.labels, line)
				}
			}
		})
	}
}

// TestRunTakesANewOverlay: adding an environment is adding its overlay
// directory; run reaches it through the target factory with no list to edit
// (it then fails here only because there is no cluster).
func TestRunTakesANewOverlay(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "overlays", "staging"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "overlays", "staging", "kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := regen(t, "run", "--suite", testutil.Path(t, "fixtures", "suite.yaml"), "--kustomize", root, "--env", "staging",
		"--kubeconfig", "/nonexistent/kubeconfig", "--report", t.TempDir())
	if code != ExitInfra || !strings.Contains(out, "--env staging: kubeconfig /nonexistent/kubeconfig: no cluster to deploy to") {
		t.Errorf("exit %d, output %q; want the staging overlay tried, and no cluster", code, out)
	}
	code, out = regen(t, "run", "--kustomize", root, "--env", "dev")
	if code != ExitInfra || !strings.Contains(out, `unknown environment "dev": want local, staging (the overlays under `+filepath.Join(root, "overlays")+")") {
		t.Errorf("exit %d, output %q; want dev unknown under a root without it", code, out)
	}
}
