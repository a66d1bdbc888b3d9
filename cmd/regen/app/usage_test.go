package app

import (
	"flag"
	"strings"
	"testing"
)

func TestHelpHasExamplesAndFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{}, {"run"}, {"golden"}, {"golden", "approve"}, {"compare"}, {"report"}, {"report", "html"}, {"variants"},
		{"workflow"}, {"inspect"}, {"inspect", "noise"}, {"inspect", "sigmas"}, {"inspect", "samplers"},
		{"deploy"}, {"deploy", "render"}, {"deploy", "validate"}, {"deploy", "apply"}, {"deploy", "delete"},
		{"image"}, {"image", "executor"}, {"image", "pause"}, {"version"},
	} {
		t.Run(strings.Join(append([]string{"regen"}, args...), " "), func(t *testing.T) {
			t.Parallel()
			code, out := regen(t, append(args, "-h")...)
			if code != ExitPass {
				t.Fatalf("exit %d, want 0:\n%s", code, out)
			}
			for _, want := range []string{"Usage: regen", "\nExamples:\n  regen ", "\nFlags"} {
				if !strings.Contains(out, want) {
					t.Errorf("-h lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestUnknownFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args  []string
		want  string // the error
		usage string // the one-line usage
		mean  string // the suggestion ("" = none)
	}{
		{args: []string{"run", "--fitler", "x"}, want: "run: flag provided but not defined: -fitler", usage: "Usage: regen run ", mean: "did you mean --filter?"},
		{args: []string{"golden", "approve", "--from-rnu", "x"}, want: "flag provided but not defined: -from-rnu", usage: "Usage: regen golden approve ", mean: "did you mean --from-run?"},
		{args: []string{"compare", "--jsn", "a", "b"}, want: "flag provided but not defined: -jsn", usage: "Usage: regen compare ", mean: "did you mean --json?"},
		{args: []string{"report", "html", "--ot", "x"}, want: "flag provided but not defined: -ot", usage: "Usage: regen report html", mean: "did you mean --out?"},
		{args: []string{"deploy", "render", "--zzzzzz"}, want: "flag provided but not defined: -zzzzzz", usage: "Usage: regen deploy"},
		{args: []string{"run", "--seeds"}, want: "flag needs an argument: -seeds", usage: "Usage: regen run "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, out := regen(t, tt.args...)
			if code != ExitInfra {
				t.Fatalf("exit %d, want 2:\n%s", code, out)
			}
			if n := strings.Count(out, tt.want); n != 1 {
				t.Errorf("the error is printed %d times, want once:\n%s", n, out)
			}
			if !strings.Contains(out, tt.usage) || strings.Contains(out, "Examples:") || strings.Count(out, "\n") > 4 {
				t.Errorf("want the error, the one-line usage and a hint, not the whole help:\n%s", out)
			}
			if tt.mean != "" && !strings.Contains(out, tt.mean) {
				t.Errorf("no %q:\n%s", tt.mean, out)
			}
			if tt.mean == "" && strings.Contains(out, "did you mean") {
				t.Errorf("a far-fetched suggestion:\n%s", out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out := regen(t, args...)
		if code != ExitPass || !strings.HasPrefix(out, "regen 0.") || !strings.Contains(out, "(") {
			t.Errorf("%v: exit %d, %q; want regen <version> (<commit>)", args, code, out)
		}
	}
}

func TestPortForwardFlagReachesTheClusterTarget(t *testing.T) {
	t.Parallel()
	code, out := regen(t, "run", "-h")
	if code != ExitPass || !strings.Contains(out, "-port-forward") || !strings.Contains(out, "REGEN_PORT_FORWARD") {
		t.Errorf("regen run -h (exit %d) does not document --port-forward:\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--env", "dev"}, false},
		{[]string{"--env", "dev", "--port-forward"}, true},
	} {
		var tf targetFlags
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		tf.bind(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		tf.parsed(fs)
		o, err := tf.options("run", t.TempDir(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.PortForward != tc.want {
			t.Errorf("%v: factory PortForward = %v; want %v", tc.args, o.PortForward, tc.want)
		}
	}
}
