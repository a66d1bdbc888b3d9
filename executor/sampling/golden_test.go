package sampling

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

var update = flag.Bool("update", false, "rewrite testdata/samplers.golden")

// TestSamplerGoldenBits pins the exact output bits of every sampler: a
// guided run (cfg 2.5, so the CFG++ samplers see U ≠ D) and an unguided
// two-point run, each at a short and a longer schedule, hashed with every
// step's x and D. The other tests check the maths within tolerances; this
// one fails on any change of floating-point operations or their order,
// which would move the CPU golden images too. A change that means to move
// them must say so and regenerate:
//
//	go test ./executor/sampling/ -run SamplerGoldenBits -update
func TestSamplerGoldenBits(t *testing.T) {
	t.Parallel()
	guided := &Guider{Model: shiftedModel(), Positive: node.Conditioning{{Vec: []float32{0.4}}},
		Negative: node.Conditioning{{Vec: []float32{-0.2}}}, CFG: 2.5}
	twoPoint := &Guider{Model: twoPointModel(0.8), Positive: node.Conditioning{{}}, Negative: node.Conditioning{{}}, CFG: 1}
	var lines []string
	for _, name := range SamplerNames() {
		line := name
		for _, g := range []*Guider{guided, twoPoint} {
			for _, steps := range []int{3, 9} {
				h := sha256.New()
				o := &Options{Callback: func(_ int, x, den *node.Tensor) { hashTensor(h, x); hashTensor(h, den) }}
				hashTensor(h, runGuided(t, name, g, steps, 7, o))
				line += " " + hex.EncodeToString(h.Sum(nil))[:16]
			}
		}
		lines = append(lines, line)
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "samplers.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (create it with -update): %v", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("sampler bits changed:\n got  %s\n want %s", g, w)
			}
		}
		t.Fatalf("outputs differ from %s; if intended, rerun with -update and say so", path)
	}
}

func hashTensor(h interface{ Write([]byte) (int, error) }, t *node.Tensor) {
	for _, v := range t.Data {
		h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
	}
}
