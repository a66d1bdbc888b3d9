package model

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

func loadControl(t testing.TB) *ControlNet {
	t.Helper()
	c, err := LoadControlNet(filepath.Join(modelsDir(), "controlnet", "regen-control.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hintImage is a size×size scribble: a bright diagonal band and a bright
// square on black, a layout none of the exemplars has.
func hintImage(size int) *node.Image {
	im := node.NewImage(1, size, size, 3)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			on := math.Abs(float64(x-y)) < float64(size)/10 ||
				(x > size*5/8 && x < size*7/8 && y > size/8 && y < size*3/8)
			if on {
				i := im.At(0, y, x)
				im.Pix[i], im.Pix[i+1], im.Pix[i+2] = 1, 1, 1
			}
		}
	}
	return im
}

// sobel returns the gradient magnitude of img's luma (first batch item).
func sobel(img *node.Image) []float64 {
	l := func(y, x int) float64 {
		y, x = clampInt(y, 0, img.H-1), clampInt(x, 0, img.W-1)
		i := img.At(0, y, x)
		return (float64(img.Pix[i]) + float64(img.Pix[i+1]) + float64(img.Pix[i+2])) / 3
	}
	out := make([]float64, img.H*img.W)
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			gx := l(y-1, x+1) + 2*l(y, x+1) + l(y+1, x+1) - l(y-1, x-1) - 2*l(y, x-1) - l(y+1, x-1)
			gy := l(y+1, x-1) + 2*l(y+1, x) + l(y+1, x+1) - l(y-1, x-1) - 2*l(y-1, x) - l(y-1, x+1)
			out[y*img.W+x] = math.Hypot(gx, gy)
		}
	}
	return out
}

func pearson(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

// TestControlNetEdgeCorrelationRisesWithStrength samples the gmm
// checkpoint (20 euler steps, 256², two seeds) under a scribble hint at
// rising strengths and correlates the output's edges with the hint's: the
// correlation must rise with strength and be clearly positive at 1.
func TestControlNetEdgeCorrelationRisesWithStrength(t *testing.T) {
	t.Parallel()
	if !heavyTests() {
		t.Skip("20-step samples with decoding: skipped under -short and -race")
	}
	c := loadCkpt(t, "regen-gmm.safetensors")
	net := loadControl(t)
	hint := hintImage(256)
	hintEdges := sobel(hint)
	cond, _ := c.CLIP().Encode("a red circle on sky")
	for _, seed := range []uint64{1, 2} {
		last := -2.0
		for _, strength := range []float64{0, 0.3, 1, 3} {
			cc := cond
			cc.Control = []node.Control{{Net: net, Hint: hint, Strength: strength, Start: 0, End: 1}}
			x := euler(t, c.Model(), cc, seed, 1, 32, 32, 20)
			img, err := c.VAE().Decode(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			dumpPNG(t, fmt.Sprintf("control-seed%d-strength%g", seed, strength), img)
			r := pearson(sobel(img), hintEdges)
			t.Logf("seed %d strength %g: edge correlation %.3f", seed, strength, r)
			if r <= last {
				t.Errorf("seed %d: edge correlation %.3f at strength %g, not above %.3f at the previous strength", seed, r, strength, last)
			}
			if strength == 1 && r < 0.3 {
				t.Errorf("seed %d: edge correlation %.3f at strength 1, want ≥ 0.3", seed, r)
			}
			last = r
		}
	}
}

// TestControlNetPercentRange: a control changes a prediction only while σ
// lies between percent_to_sigma(start) and percent_to_sigma(end); outside,
// the prediction is bit-identical to the uncontrolled one.
func TestControlNetPercentRange(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"regen-gmm.safetensors", "regen-els.safetensors"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			c := loadCkpt(t, file)
			m := c.Model()
			net := loadControl(t)
			cond, _ := c.CLIP().Encode("a red circle on sky")
			ctl := cond
			ctl.Control = []node.Control{{Net: net, Hint: hintImage(64), Strength: 1, Start: 0.3, End: 0.6}}
			hi, lo := m.percentToSigma(0.3), m.percentToSigma(0.6)
			if !(hi > lo && lo > 0) {
				t.Fatalf("percent_to_sigma(0.3) = %v, (0.6) = %v", hi, lo)
			}
			for _, tc := range []struct {
				sigma  float64
				active bool
			}{{hi * 1.5, false}, {hi, true}, {math.Sqrt(hi * lo), true}, {lo, true}, {lo / 1.5, false}, {0.05, false}} {
				x := node.NewTensor(1, 4, 8, 8)
				for i, v := range gauss(3, x.Numel()) {
					x.Data[i] = float32(tc.sigma) * v
				}
				plain, err := m.Predict(context.Background(), x, tc.sigma, cond)
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Predict(context.Background(), x, tc.sigma, ctl)
				if err != nil {
					t.Fatal(err)
				}
				same := sameBits(got.Data, plain.Data) < 0
				if same == tc.active {
					t.Errorf("σ %.4g (active range %.4g..%.4g): controlled prediction identical = %v, want %v", tc.sigma, lo, hi, same, !tc.active)
				}
			}
		})
	}
}

func TestLoadControlNetRejects(t *testing.T) {
	t.Parallel()
	if _, err := LoadControlNet(filepath.Join(modelsDir(), "checkpoints", "regen-gmm.safetensors")); err == nil {
		t.Error("a checkpoint loaded as a ControlNet")
	}
	if _, err := LoadControlNet(filepath.Join(modelsDir(), "controlnet", "nope.safetensors")); err == nil {
		t.Error("a missing file loaded")
	}
	net := loadControl(t)
	if len(net.Dir) != 4 || net.Amplitude <= 0 || net.Rate <= 0 || net.Hash() == "" {
		t.Errorf("control model %+v", net)
	}
}
