package runner

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/runner/report"
)

func TestLessID(t *testing.T) {
	t.Parallel()
	ids := []string{"save_image_websocket_node", "10", "9", "a", "2"}
	sort.Slice(ids, func(i, j int) bool { return lessID(ids[i], ids[j]) })
	want := []string{"2", "9", "10", "a", "save_image_websocket_node"}
	if !slices.Equal(ids, want) {
		t.Errorf("order = %v, want %v", ids, want)
	}
}

func TestFlattenDropsNonFinite(t *testing.T) {
	t.Parallel()
	res := &compare.Result{Tiers: []compare.TierResult{{Tier: "structure", Metrics: []compare.Metric{
		{Name: "euc", Value: 3, Threshold: 5, Gated: true},
		{Name: "nan", Value: math.NaN()},
		{Name: "inf", Value: 1, Threshold: math.Inf(1), Gated: true},
	}}}}
	m, th := flatten(res)
	if len(m) != 2 || m["structure.euc"] != 3 || m["structure.inf"] != 1 {
		t.Errorf("metrics = %v", m)
	}
	if len(th) != 1 || th["structure.euc"] != 5 {
		t.Errorf("thresholds = %v", th)
	}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		cases           []report.Case
		strict          bool
		runErr          string
		wantReg, wantIn int
	}{
		{name: "all pass", cases: []report.Case{{Verdict: report.Pass}, {Verdict: report.PassApprox}, {Verdict: report.Skip}}},
		{name: "pass~ strict", strict: true, cases: []report.Case{{Verdict: report.PassApprox}}, wantReg: 1},
		{name: "fail and error", cases: []report.Case{{Verdict: report.Fail}, {Verdict: report.Error}, {Verdict: report.New}}, wantReg: 1, wantIn: 2},
		{name: "run error", runErr: "interrupted", wantIn: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, in := Outcome(&report.Run{Cases: tt.cases, Strict: tt.strict, Error: tt.runErr})
			if len(reg) != tt.wantReg || len(in) != tt.wantIn {
				t.Errorf("regressions %v, infra %v; want %d, %d", reg, in, tt.wantReg, tt.wantIn)
			}
		})
	}
}

func TestFlatFingerprint(t *testing.T) {
	t.Parallel()
	got := flatFingerprint([]byte(`{"system":{"comfyui_version":"regen-1"},"devices":[{"name":"cpu: x","type":"cpu"}]}`), "cpu")
	want := map[string]string{"class": "cpu", "version": "regen-1", "device": "cpu: x", "device_type": "cpu"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestStableFingerprint(t *testing.T) {
	t.Parallel()
	got := string(stableFingerprint([]byte(`{"system":{"argv":["regen","run"],"ram_free":1,"ram_total":2,"os":"posix"},"devices":[{"name":"cpu","vram_free":3}]}`)))
	want := `{"devices":[{"name":"cpu"}],"system":{"os":"posix"}}`
	if got != want {
		t.Errorf("stable = %s, want %s", got, want)
	}
}

func TestTargetClass(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{`{"regen":{"fingerprint":{"class":"cuda-h200"}}}`, "cuda-h200"},
		{`{"system":{"comfyui_version":"0.3"}}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		if got := TargetClass([]byte(tt.raw)); got != tt.want {
			t.Errorf("TargetClass(%s) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestTierOfKeyMetric(t *testing.T) {
	t.Parallel()
	// Two tiers hold a metric of the same name and value: the tier is the
	// one whose metric KeyMetric returned, not the first look-alike.
	res := compare.Result{Verdict: compare.PassApprox, Tiers: []compare.TierResult{
		{Tier: compare.TierColour, Metrics: []compare.Metric{{Name: "d", Value: 1, Threshold: 4, Gated: true}}},
		{Tier: compare.TierStructure, Metrics: []compare.Metric{{Name: "d", Value: 1, Threshold: 2, Gated: true}}},
	}}
	m := res.KeyMetric()
	if m == nil {
		t.Fatal("no key metric")
	}
	if got := tierOf(&res, m); got != compare.TierStructure {
		t.Errorf("tierOf = %q, want %q", got, compare.TierStructure)
	}
	if got := tierOf(&res, &compare.Metric{Name: "d", Value: 1, Gated: true}); got != "" {
		t.Errorf("tierOf(a metric not in res) = %q, want none", got)
	}
}

func TestTargetKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{`{"system":{"comfyui_version":"regen-1"},"regen":{"backend":"cpu"}}`, "regen-executor"},
		{`{"system":{"comfyui_version":"0.33.0"},"devices":[]}`, "comfyui"},
		{`{"regen":null}`, "comfyui"},
		{`not json`, "comfyui"},
	}
	for _, tt := range tests {
		if got := TargetKind([]byte(tt.raw)); got != tt.want {
			t.Errorf("TargetKind(%s) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
