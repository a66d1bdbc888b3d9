package kernelsim

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend/backendtest"
)

// TestDefinesMatchKernel: the Go constants are the kernel's #defines.
func TestDefinesMatchKernel(t *testing.T) {
	src, err := os.ReadFile("../kernels/attention.cu")
	if err != nil {
		t.Fatalf("read kernel source: %v", err)
	}
	re := regexp.MustCompile(`(?m)^#define (\w+) (\d+)`)
	defs := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[2])
		defs[m[1]] = n
	}
	for _, c := range []struct {
		name string
		want int
	}{{"BQ", BQ}, {"BK", BK}, {"BDV", BDV}, {"DC", DC}, {"NT", Threads}} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := defs[c.name]
			if !ok {
				t.Fatalf("attention.cu has no #define %s", c.name)
			}
			if got != c.want {
				t.Errorf("attention.cu: %s = %d, Go constant = %d", c.name, got, c.want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	for _, c := range []struct {
		nq, nk, dv int
		want       Plan
	}{
		// an els tile: one query block, 144 key tiles split 36 ways
		{16, 9216, 4, Plan{GX: 1, GY: 1, GZ: 36, KeysPerSplit: 256}},
		// gmm: one query, DV = 4096 → 128 column blocks, 48 keys in one split
		{1, 48, 4096, Plan{GX: 1, GY: 128, GZ: 1, KeysPerSplit: 64}},
		// many queries: enough blocks without splitting
		{8192, 8192, 4, Plan{GX: 512, GY: 1, GZ: 1, KeysPerSplit: 8192}},
		// 65 tiles in splits of 4: the 17th split has one tile, none is empty
		{100, 4160, 4, Plan{GX: 7, GY: 1, GZ: 17, KeysPerSplit: 256}},
		// 7 query blocks × 4 column blocks want 10 splits of 70 tiles → 7 each
		{100, 4480, 100, Plan{GX: 7, GY: 4, GZ: 10, KeysPerSplit: 7 * 64}},
		{1, 1, 1, Plan{GX: 1, GY: 1, GZ: 1, KeysPerSplit: 64}},
	} {
		t.Run(fmt.Sprintf("nq%d_nk%d_dv%d", c.nq, c.nk, c.dv), func(t *testing.T) {
			got := NewPlan(c.nq, c.nk, c.dv)
			if got != c.want {
				t.Errorf("NewPlan = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestPlanInvariants: over many shapes, the splits cover the keys, none is
// empty, and the grid fits CUDA's limits.
func TestPlanInvariants(t *testing.T) {
	for _, nq := range []int{1, 3, 16, 17, 100, 4096} {
		for _, nk := range []int{1, 63, 64, 65, 1000, 100000, 5000000} {
			for _, dv := range []int{1, 4, 33, 4096} {
				p := NewPlan(nq, nk, dv)
				if p.GX*BQ < nq || p.GY*BDV < dv || p.KeysPerSplit%BK != 0 {
					t.Fatalf("NewPlan(%d,%d,%d) = %+v does not cover the output", nq, nk, dv, p)
				}
				if p.GZ*p.KeysPerSplit < nk || (p.GZ-1)*p.KeysPerSplit >= nk {
					t.Fatalf("NewPlan(%d,%d,%d) = %+v: splits do not cover the keys exactly", nq, nk, dv, p)
				}
				if p.GY > maxGrid || p.GZ > maxGrid || p.GZ < 1 {
					t.Fatalf("NewPlan(%d,%d,%d) = %+v exceeds the grid limits", nq, nk, dv, p)
				}
			}
		}
	}
}

func TestRowsPerLaunch(t *testing.T) {
	for _, c := range []struct {
		nq, nk, d, dv, want int
	}{
		{16, 9216, 36, 4, 16},
		{8192, 8192, 64, 4, 3584},    // 4e9 / (2·8192·68·16) = 224 blocks
		{10, 1 << 30, 4096, 1, 10},   // one block even if over budget
		{100000, 10, 10, 10, 100000}, // small work: everything at once
	} {
		if got := RowsPerLaunch(c.nq, c.nk, c.d, c.dv); got != c.want {
			t.Errorf("RowsPerLaunch(%d,%d,%d,%d) = %d, want %d", c.nq, c.nk, c.d, c.dv, got, c.want)
		}
	}
}

// TestConformanceFP32: the fp32 kernel's arithmetic passes the suite at the
// default fp32 tolerance, offset_cancellation included (no expansion).
func TestConformanceFP32(t *testing.T) {
	backendtest.Run(t, &Emulator{Precision: FP32})
}

// modelCases are shapes and data like the model's calls: an els tile late
// and mid sampling (v = s² + σ², s = 0.08), a gmm step, a VAE decode block.
func modelCases() []backendtest.Case {
	return []backendtest.Case{
		{Name: "els_tile_late", NQ: 16, NK: 2304, D: 36, DV: 4, Variance: 0.0073, Data: backendtest.Clustered, Bias: backendtest.BiasRandom, Seed: 101},
		{Name: "els_tile_mid", NQ: 16, NK: 2304, D: 100, DV: 4, Variance: 0.1, Data: backendtest.Clustered, Seed: 102},
		{Name: "els_tile_early", NQ: 16, NK: 2304, D: 196, DV: 4, Variance: 4, Seed: 103},
		{Name: "gmm_late", NQ: 2, NK: 48, D: 4096, DV: 4096, Variance: 0.0073, Data: backendtest.Clustered, Bias: backendtest.BiasRandom, Seed: 104},
		{Name: "vae_decode", NQ: 64, NK: 1000, D: 36, DV: 192, Variance: 0.5, Bias: backendtest.BiasRandom, Seed: 105},
	}
}

// TestPrecisionCost measures max |out − reference| / max|V| of each
// precision on the suite's cases and the model-like ones, and logs the
// table (go test -run PrecisionCost -v). It asserts what the numbers must
// show: fp32 within the default tolerance everywhere; centring never hurts
// TF32 on offset data; BF16 is no better than TF32.
func TestPrecisionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("emulates ~1 GFLOP")
	}
	type variant struct {
		name string
		e    *Emulator
	}
	variants := []variant{
		{"fp32", &Emulator{Precision: FP32}},
		{"tf32", &Emulator{Precision: TF32}},
		{"tf32-nocentre", &Emulator{Precision: TF32, NoCentre: true}},
		{"bf16", &Emulator{Precision: BF16}},
	}
	cases := append(backendtest.Cases(), modelCases()...)
	errs := map[string]map[string]float64{}
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-22s", "case")
	for _, v := range variants {
		fmt.Fprintf(&tab, " %14s", v.name)
		errs[v.name] = map[string]float64{}
	}
	tab.WriteString("\n")
	for _, c := range cases {
		want := c.Args()
		backendtest.Reference(want)
		fmt.Fprintf(&tab, "%-22s", c.Name)
		for _, v := range variants {
			a := c.Args()
			if err := v.e.Attention(context.Background(), a); err != nil {
				t.Fatalf("%s %s: %v", c.Name, v.name, err)
			}
			e, err := backendtest.MaxError(a.Out, want.Out, a.V)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, v.name, err)
			}
			errs[v.name][c.Name] = e
			fmt.Fprintf(&tab, " %14.3g", e)
		}
		tab.WriteString("\n")
	}
	t.Logf("max |out − reference| / max|V|:\n%s", tab.String())
	for _, c := range cases {
		if e := errs["fp32"][c.Name]; e > backendtest.DefaultTol {
			t.Errorf("fp32 %s: error %.3g > %.3g", c.Name, e, backendtest.DefaultTol)
		}
	}
	if c, n := errs["tf32"]["offset_cancellation"], errs["tf32-nocentre"]["offset_cancellation"]; c > n {
		t.Errorf("offset_cancellation: centred tf32 error %.3g > uncentred %.3g", c, n)
	}
	worst := func(name string) float64 {
		w := 0.0
		for _, e := range errs[name] {
			w = math.Max(w, e)
		}
		return w
	}
	if worst("bf16") < worst("tf32") {
		t.Errorf("bf16 worst error %.3g < tf32 %.3g: the rounding emulation is suspect", worst("bf16"), worst("tf32"))
	}
	if worst("tf32") <= worst("fp32") {
		t.Errorf("tf32 worst error %.3g ≤ fp32 %.3g: the tf32 rounding is not being applied", worst("tf32"), worst("fp32"))
	}
}

func TestRounding(t *testing.T) {
	for _, c := range []struct {
		name     string
		f        func(float32) float32
		in, want float32
	}{
		{"tf32_exact", roundTF32, 1.5, 1.5},
		{"tf32_down", roundTF32, math.Float32frombits(0x3f800fff), 1},
		{"tf32_tie_away", roundTF32, math.Float32frombits(0x3f801000), math.Float32frombits(0x3f802000)},
		{"tf32_negative_tie_away", roundTF32, -math.Float32frombits(0x3f801000), -math.Float32frombits(0x3f802000)},
		{"bf16_tie_even_down", roundBF16, math.Float32frombits(0x3f808000), 1},
		{"bf16_tie_even_up", roundBF16, math.Float32frombits(0x3f818000), math.Float32frombits(0x3f820000)},
		{"bf16_inf", roundBF16, float32(math.Inf(1)), float32(math.Inf(1))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f(c.in); math.Float32bits(got) != math.Float32bits(c.want) {
				t.Errorf("round(%#x) = %#x, want %#x", math.Float32bits(c.in), math.Float32bits(got), math.Float32bits(c.want))
			}
		})
	}
}
