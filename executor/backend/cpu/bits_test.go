package cpu

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
)

var update = flag.Bool("update", false, "rewrite testdata/bits.golden")

// TestGoldenBits pins the exact output bits of a few calls. They must not
// change with GOMAXPROCS, GOAMD64 (FMA or not), GOARCH or the blocking; if
// they change, every CPU golden image of regen changes too, so a kernel
// change that moves them must say so (and regenerate with -update). The
// inputs come from a fixed splitmix64 stream, not math/rand, so that a Go
// release cannot move them.
//
//	go test ./executor/backend/cpu/ -run GoldenBits
//	GOAMD64=v3 go test ./executor/backend/cpu/ -run GoldenBits
func TestGoldenBits(t *testing.T) {
	cases := []struct {
		name          string
		nq, nk, d, dv int
		variance      float32
		bias, knorm   bool
	}{
		{"gmm", 2, 48, 512, 512, 3, true, true},
		{"gmm_one", 1, 31, 300, 300, 2, false, false},
		{"els", 100, 300, 36, 4, 0.4, false, false},
		{"vae", 40, 200, 36, 192, 0.3, true, false},
		{"many_wide", 260, 70, 36, 48, 0.5, true, true}, // widened K, Vᵀ
	}
	var lines []string
	for i, c := range cases {
		s := splitmix(uint64(i + 1))
		g := &s
		a := &backend.AttentionArgs{
			NQ: c.nq, NK: c.nk, D: c.d, DV: c.dv, Variance: c.variance,
			Q: g.fill(c.nq * c.d), K: g.fill(c.nk * c.d), V: g.fill(c.nk * c.dv),
			Out: make([]float32, c.nq*c.dv),
		}
		if c.bias {
			a.Bias = g.fill(c.nk)
		}
		if c.knorm {
			a.KNorm = make([]float32, c.nk)
			for j := range c.nk {
				a.KNorm[j] = float32(sqNorm32(a.K[j*c.d : (j+1)*c.d]))
			}
		}
		if err := New().Attention(context.Background(), a); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		h := sha256.New()
		for _, x := range a.Out {
			h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
		}
		lines = append(lines, fmt.Sprintf("%s %s", c.name, hex.EncodeToString(h.Sum(nil))))
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "bits.golden")
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
		t.Fatalf("read golden: %v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output bits changed (every CPU golden image would change):\ngot:\n%swant:\n%s", got, want)
	}
}

// splitmix is the splitmix64 generator: a fixed, tiny stream of inputs.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fill returns n values uniform in [−1, 1), multiples of 2⁻²³.
func (s *splitmix) fill(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(int64(s.next()>>40)-1<<23) / (1 << 23)
	}
	return out
}
