package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sync"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

// exemplarSet is the data distribution: K exemplar latents with caption keys
// and a log prior weight each (0 for a checkpoint's own, log strength for a
// LoRA's).
type exemplarSet struct {
	K, C, H, W int
	lat        []float32 // [K, C, H, W]
	keys       []float32 // [K, E]
	logw       []float32 // [K]
}

// sized is an exemplar set resampled to one latent size.
type sized struct {
	h, w  int
	lat   []float32 // [K, C·h·w]
	norms []float32 // [K] ‖μ_k‖²
}

// Model is the denoiser of a checkpoint (with any LoRAs applied). It is safe
// for concurrent use.
type Model struct {
	cfg    *Config
	be     backend.Attender
	sigmas []float64
	set    *exemplarSet
	hash   string

	mu    sync.Mutex
	sizes map[[2]int]*sized
}

var _ node.Model = (*Model)(nil)

func newModel(cfg *Config, be backend.Attender, set *exemplarSet, hash string) *Model {
	return &Model{cfg: cfg, be: be, sigmas: cfg.Schedule.Sigmas(), set: set, hash: hash, sizes: map[[2]int]*sized{}}
}

// SigmaTable implements node.Model.
func (m *Model) SigmaTable() []float64 { return append([]float64(nil), m.sigmas...) }

// LatentChannels implements node.Model.
func (m *Model) LatentChannels() int { return m.cfg.LatentChannels }

// Hash implements node.Model: the checkpoint file's SHA-256, or a hash of it
// and the applied LoRAs with their strengths.
func (m *Model) Hash() string { return m.hash }

// Mode returns the denoiser mode (gmm or els).
func (m *Model) Mode() string { return m.cfg.Mode }

// Exemplars returns the number of exemplars (with LoRAs).
func (m *Model) Exemplars() int { return m.set.K }

// at returns the exemplars resampled to h×w, cached per size.
func (m *Model) at(h, w int) *sized {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]int{h, w}
	if s, ok := m.sizes[key]; ok {
		return s
	}
	e := m.set
	s := &sized{h: h, w: w, lat: resample(e.lat, e.K*e.C, e.H, e.W, h, w), norms: make([]float32, e.K)}
	d := e.C * h * w
	for k := range s.norms {
		s.norms[k] = sqNorm(s.lat[k*d : (k+1)*d])
	}
	m.sizes[key] = s
	return s
}

// Prior returns log π_k(c) (up to a constant) for every exemplar:
// τ·⟨e(c), key_k⟩ plus the exemplar's log weight; uniform for the zero or
// empty vector.
func (m *Model) Prior(c node.Cond) ([]float32, error) { return m.prior(c, 1) }

// prior is Prior with the text term scaled: for latents larger than the
// exemplars the global posterior scales it by the area ratio
// (h·w / H·W ≥ 1), because the likelihood's strength grows with the number
// of latent values; without that a 64×64 latent lets the noise, not the
// prompt, pick the scene. Smaller latents keep τ (weakening it there let
// the noise win again at 16×16).
func (m *Model) prior(c node.Cond, scale float64) ([]float32, error) {
	e := m.set
	E := m.cfg.EmbeddingDim
	bias := append([]float32(nil), e.logw...)
	if len(c.Vec) == 0 {
		return bias, nil
	}
	if len(c.Vec) != E {
		return nil, fmt.Errorf("apply conditioning: embedding has %d values, model wants %d", len(c.Vec), E)
	}
	tau := m.cfg.TextTemperature * scale
	for k := range bias {
		var dot float64
		for i, v := range c.Vec {
			dot += float64(float64(v) * float64(e.keys[k*E+i]))
		}
		bias[k] = float32(float64(bias[k]) + float64(tau*dot))
	}
	return bias, nil
}

// Predict implements node.Model.
func (m *Model) Predict(ctx context.Context, x *node.Tensor, sigma float64, c node.Cond) (*node.Tensor, error) {
	B, h, w, err := checkLatent(x, m.cfg.LatentChannels)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	if sigma < 0 || math.IsNaN(sigma) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("predict: bad sigma %v", sigma)
	}
	if m.cfg.Mode == ModeELS && m.patchSize(sigma) > 0 {
		bias, err := m.Prior(c)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		return m.predictELS(ctx, x, B, h, w, sigma, bias)
	}
	bias, err := m.prior(c, max(1, float64(h*w)/float64(m.set.H*m.set.W)))
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	return m.predictGMM(ctx, x, B, h, w, sigma, bias)
}

// predictGMM is the exact posterior mean of Σ_k π_k N(μ_k, s²I):
// D = Σ_k r_k [μ_k + a(x − μ_k)] = m + a(x − m), m = attention output,
// a = s²/(s²+σ²).
func (m *Model) predictGMM(ctx context.Context, x *node.Tensor, B, h, w int, sigma float64, bias []float32) (*node.Tensor, error) {
	s := m.at(h, w)
	d := m.cfg.LatentChannels * h * w
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + float64(sigma*sigma)
	out := node.NewTensor(x.Shape...)
	err := m.be.Attention(ctx, &backend.AttentionArgs{NQ: B, NK: m.set.K, D: d, DV: d,
		Q: x.Data, K: s.lat, KNorm: s.norms, Bias: bias, V: s.lat, Variance: float32(v), Out: out.Data})
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	a := s2 / v
	for i, mv := range out.Data {
		out.Data[i] = float32(float64(mv) + float64(a*(float64(x.Data[i])-float64(mv))))
	}
	return out, nil
}

// hashOf hashes its parts, separated.
func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
