package model

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
)

var (
	ckptMu    sync.Mutex
	ckptCache = map[string]*Checkpoint{}
)

func modelsDir() string { return filepath.Join("..", "..", "fixtures", "models") }

// loadCkpt loads a committed checkpoint once per test binary.
func loadCkpt(t testing.TB, name string) *Checkpoint {
	t.Helper()
	ckptMu.Lock()
	defer ckptMu.Unlock()
	if c, ok := ckptCache[name]; ok {
		return c
	}
	c, err := LoadCheckpoint(filepath.Join(modelsDir(), "checkpoints", name), cpu.New())
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	ckptCache[name] = c
	return c
}

// gauss fills n standard normals from a fixed seed (test-only PRNG).
func gauss(seed uint64, n int) []float32 {
	s := seed*0x9e3779b97f4a7c15 + 1
	next := func() float64 {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		return (float64(s>>11) + 0.5) / (1 << 53)
	}
	out := make([]float32, n)
	for i := 0; i < n; i += 2 {
		u, v := next(), next()
		r := math.Sqrt(-2 * math.Log(u))
		out[i] = float32(r * math.Cos(2*math.Pi*v))
		if i+1 < n {
			out[i+1] = float32(r * math.Sin(2*math.Pi*v))
		}
	}
	return out
}

// karras returns ComfyUI's karras schedule (ρ = 7) with a final 0.
func karras(n int, smin, smax float64) []float64 {
	lo, hi := math.Pow(smin, 1/7.0), math.Pow(smax, 1/7.0)
	s := make([]float64, n+1)
	for i := 0; i < n; i++ {
		s[i] = math.Pow(hi+float64(i)/float64(n-1)*(lo-hi), 7)
	}
	return s
}

// euler runs a plain Euler sampler over Predict from seeded noise.
func euler(t testing.TB, m node.Model, c node.Cond, seed uint64, b, h, w, steps int) *node.Tensor {
	t.Helper()
	sig := m.SigmaTable()
	sigmas := karras(steps, sig[0], sig[len(sig)-1])
	x := node.NewTensor(b, m.LatentChannels(), h, w)
	for i, v := range gauss(seed, x.Numel()) {
		x.Data[i] = v * float32(sigmas[0])
	}
	for i := 0; i < steps; i++ {
		d, err := m.Predict(context.Background(), x, sigmas[i], c)
		if err != nil {
			t.Fatalf("predict: %v", err)
		}
		dt := sigmas[i+1] - sigmas[i]
		for j := range x.Data {
			x.Data[j] += float32((float64(x.Data[j]) - float64(d.Data[j])) / sigmas[i] * dt)
		}
	}
	return x
}

// colourFraction is the fraction of pixels of a saturated shape colour:
// red (ch 0) or blue (ch 2); backgrounds (sky, sea, night) are excluded by
// the thresholds.
func colourFraction(img *node.Image, ch int) float64 {
	n := 0
	for i := 0; i < len(img.Pix); i += 3 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if (ch == 0 && r > 0.6 && g < 0.35 && b < 0.35) || (ch == 2 && b > 0.75 && r < 0.3 && g < 0.35) {
			n++
		}
	}
	return float64(n) / float64(len(img.Pix)/3)
}

func TestLoadCheckpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, mode string
	}{{"regen-gmm.safetensors", ModeGMM}, {"regen-els.safetensors", ModeELS}} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			c := loadCkpt(t, tc.file)
			if c.Config.Mode != tc.mode || c.Model().Mode() != tc.mode {
				t.Errorf("mode %q, want %q", c.Config.Mode, tc.mode)
			}
			m := c.Model()
			if m.LatentChannels() != 4 || c.VAE().Downscale() != 8 || len(m.SigmaTable()) != 1000 {
				t.Errorf("channels %d downscale %d sigmas %d", m.LatentChannels(), c.VAE().Downscale(), len(m.SigmaTable()))
			}
			if len(m.Hash()) != 64 || m.Hash() != c.Hash {
				t.Errorf("hash %q", m.Hash())
			}
			if m.Exemplars() < 32 || len(c.Config.Vocabulary) < 18 {
				t.Errorf("exemplars %d vocabulary %v", m.Exemplars(), c.Config.Vocabulary)
			}
		})
	}
	if _, err := LoadCheckpoint(filepath.Join(modelsDir(), "loras", "regen-lora.safetensors"), cpu.New()); err == nil {
		t.Error("a LoRA loaded as a checkpoint")
	}
	if _, err := LoadCheckpoint(filepath.Join(modelsDir(), "nope.safetensors"), cpu.New()); err == nil {
		t.Error("a missing file loaded")
	}
}

// TestGMMSnapsToNearestExemplar: near an exemplar the posterior is that
// exemplar's component alone, D = μ_k + a(x − μ_k) + Σ_i gain_i·P_i(x − μ_k)
// (the smooth subspace keeps its part of x − μ_k, see components.go), and
// everything but that smooth part is pulled onto μ_k.
func TestGMMSnapsToNearestExemplar(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	m := c.Model()
	e := m.set
	d := e.C * e.H * e.W
	s2 := m.cfg.ComponentWidth * m.cfg.ComponentWidth
	sm := m.at(e.H, e.W).sm
	if sm == nil {
		t.Fatal("the gmm checkpoint has no smooth subspace")
	}
	// any prompt: near an exemplar (within the noise level: farther, the
	// generic component takes over, TestGenericKeepsUnexplainedInput) the
	// likelihood decides
	cond, _ := c.CLIP().Encode("a blue square on grass")
	for _, k := range []int{0, 17, 42} {
		x := node.NewTensor(1, e.C, e.H, e.W)
		noise := gauss(uint64(k), d)
		for _, tc := range []struct {
			pert, sigma float64
		}{{0.3, 0.3}, {0.05, 0.05}, {0.5, 0.5}, {1e-3, 1e-3}} {
			for i := range x.Data {
				x.Data[i] = e.lat[k*d+i] + float32(tc.pert)*noise[i]
			}
			out, err := m.Predict(context.Background(), x, tc.sigma, cond)
			if err != nil {
				t.Fatal(err)
			}
			// the posterior is exemplar k's component alone:
			// D = μ_k + a(x − μ_k) + smooth part, a = s²/(s²+σ²)
			a := s2 / (s2 + tc.sigma*tc.sigma)
			r := make([]float32, d)
			for i := range r {
				r[i] = x.Data[i] - e.lat[k*d+i]
			}
			coef := make([]float64, sm.dim())
			sm.coefs(coef, r)
			_, gain := sm.weights(s2, s2+tc.sigma*tc.sigma)
			smoothPart := make([]float32, d)
			sm.addProjection(smoothPart, coef, gain)
			var maxErr, dk, dx float64
			for i, v := range out.Data {
				mu := float64(e.lat[k*d+i])
				want := mu + a*(float64(x.Data[i])-mu) + float64(smoothPart[i])
				maxErr = max(maxErr, math.Abs(float64(v)-want))
				dk += (float64(v) - mu) * (float64(v) - mu)
				dx += (float64(x.Data[i]) - mu) * (float64(x.Data[i]) - mu)
			}
			if maxErr > 1e-4 {
				t.Errorf("exemplar %d, perturbation %g, σ %g: D off the component mean by %g", k, tc.pert, tc.sigma, maxErr)
			}
			if tc.sigma > 0.01 && dk > 0.5*dx {
				t.Errorf("exemplar %d, σ %g: D did not snap towards μ_k (‖D−μ‖² %.3f, ‖x−μ‖² %.3f)", k, tc.sigma, dk, dx)
			}
		}
	}
}

// TestPromptSteersColour runs a 20-step Euler loop over Predict from the
// same noise under two prompts and checks the colour of the result (decoded
// linearly: the codebook decoder adds edges, not colour).
func TestPromptSteersColour(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	seeds := uint64(4)
	if !heavyTests() {
		seeds = 2
	}
	for _, side := range []int{16, 32, 64} {
		t.Run(fmt.Sprintf("%dx%d", side, side), func(t *testing.T) {
			t.Parallel()
			fractions := func(prompt string) (red, blue float64) {
				cond, err := c.CLIP().Encode(prompt)
				if err != nil {
					t.Fatal(err)
				}
				for seed := uint64(1); seed <= seeds; seed++ {
					x := euler(t, c.Model(), cond, seed, 1, side, side, 20)
					img, err := c.VAE().DecodeLinear(x)
					if err != nil {
						t.Fatal(err)
					}
					red += colourFraction(img, 0) / float64(seeds)
					blue += colourFraction(img, 2) / float64(seeds)
				}
				return red, blue
			}
			redR, redB := fractions("red circle")
			blueR, blueB := fractions("blue circle")
			t.Logf("red pixels: 'red circle' %.4f, 'blue circle' %.4f; blue pixels: 'red circle' %.4f, 'blue circle' %.4f", redR, blueR, redB, blueB)
			if redR <= blueR || blueB <= redB {
				t.Errorf("prompt does not steer colour: red %.4f vs %.4f, blue %.4f vs %.4f", redR, blueR, blueB, redB)
			}
		})
	}
}

func TestPredictDeterministicAndSized(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"regen-gmm.safetensors", "regen-els.safetensors"} {
		sizes := [][2]int{{32, 32}, {32, 40}, {16, 16}}
		if !heavyTests() {
			sizes = [][2]int{{8, 12}}
		}
		for _, sz := range sizes {
			t.Run(file, func(t *testing.T) {
				t.Parallel()
				c := loadCkpt(t, file)
				cond, _ := c.CLIP().Encode("a (large:1.2) red circle on sky")
				x := node.NewTensor(2, 4, sz[0], sz[1])
				for i, v := range gauss(5, x.Numel()) {
					x.Data[i] = 3 * v
				}
				a, err := c.Model().Predict(context.Background(), x, 3, cond)
				if err != nil {
					t.Fatal(err)
				}
				b, err := c.Model().Predict(context.Background(), x, 3, cond)
				if err != nil {
					t.Fatal(err)
				}
				for i := range a.Data {
					if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
						t.Fatalf("size %v: run 2 differs at %d: %v vs %v", sz, i, a.Data[i], b.Data[i])
					}
				}
				if len(a.Shape) != 4 || a.Shape[2] != sz[0] || a.Shape[3] != sz[1] {
					t.Errorf("shape %v", a.Shape)
				}
			})
		}
	}
}

func TestPredictRejects(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	m := c.Model()
	tests := []struct {
		name  string
		x     *node.Tensor
		sigma float64
		cond  node.Cond
	}{
		{"3 channels", node.NewTensor(1, 3, 8, 8), 1, node.Cond{}},
		{"rank 3", node.NewTensor(4, 8, 8), 1, node.Cond{}},
		{"nil", nil, 1, node.Cond{}},
		{"negative sigma", node.NewTensor(1, 4, 8, 8), -1, node.Cond{}},
		{"NaN sigma", node.NewTensor(1, 4, 8, 8), math.NaN(), node.Cond{}},
		{"wrong embedding", node.NewTensor(1, 4, 8, 8), 1, node.Cond{Vec: []float32{1, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Predict(context.Background(), tc.x, tc.sigma, tc.cond); err == nil {
				t.Fatal("Predict accepted it")
			}
		})
	}
}

func TestPriorUniformForZero(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	for _, cond := range []node.Cond{{}, {Vec: make([]float32, c.Config.EmbeddingDim)}} {
		p, err := c.Model().Prior(cond)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range p {
			if v != p[0] {
				t.Fatalf("prior not uniform: %v", p)
			}
		}
	}
	cond, _ := c.CLIP().Encode("red circle")
	p, _ := c.Model().Prior(cond)
	caps := c.Config.Captions
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	if !containsAll(caps[best], "red", "circle") {
		t.Errorf("highest prior for 'red circle' is %q", caps[best])
	}
}

func containsAll(s string, words ...string) bool {
	toks := map[string]bool{}
	for _, t := range ParsePrompt(s) {
		toks[t.Word] = true
	}
	for _, w := range words {
		if !toks[w] {
			return false
		}
	}
	return true
}
