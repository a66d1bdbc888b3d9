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

// sized is an exemplar set resampled to one latent size, with the global
// posterior's components: the exemplars at every shift (the unshifted
// ones first, so lat[:K·C·h·w] are the exemplars as drawn, which els
// uses), their norms and smooth-subspace coefficients.
type sized struct {
	h, w  int
	n     int       // components: K·shifts
	lat   []float32 // [n, C·h·w]
	norms []float32 // [n] ‖μ_j‖²
	sm    *smooth   // nil without a smooth subspace
	coef  []float64 // [n, sm.dim()]
	els   elsBank   // els's layout of the exemplars and key norms (els_patches.go)
	// The local posterior's (local.go): whether the checkpoint has one,
	// ‖μ_j‖² in float64, and each component's rough part (lat less its
	// smooth part), made when a cell first needs it.
	local   bool
	norms64 []float64
	roughMu sync.Mutex
	rough   [][]float32
	// gen is the generic component (generic.go), nil without one.
	gen *generic
	// elsGen is els's generic component (els_generic.go), made when an
	// els prediction first needs it.
	elsGen elsGenericOnce
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

	// noELSGeneric leaves els's generic component out (tests compare
	// with and without it).
	noELSGeneric bool
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
	base := resample(e.lat, e.K*e.C, e.H, e.W, h, w)
	pairs := shiftPairs(m.cfg.Shifts, h, w)
	d := e.C * h * w
	s := &sized{h: h, w: w, n: e.K * len(pairs), lat: make([]float32, e.K*len(pairs)*d)}
	for i, p := range pairs {
		shiftPlanes(s.lat[i*e.K*d:(i+1)*e.K*d], base, e.K*e.C, h, w, p[0], p[1])
	}
	norms64 := sqNorms(s.lat, s.n) // each sqNorm's float64 sum, in one pass
	s.norms = make([]float32, s.n)
	for j := range s.norms {
		s.norms[j] = float32(norms64[j])
	}
	if m.cfg.LowFreq > 0 && m.cfg.LowFreqWidth > 0 {
		s.sm = newSmooth(e.C, h, w, m.cfg.LowFreq, m.cfg.LowFreqWidth, m.cfg.LowFreqDecay)
		nd := s.sm.dim()
		s.coef = make([]float64, s.n*nd)
		for j := 0; j < s.n; j++ {
			s.sm.coefs(s.coef[j*nd:(j+1)*nd], s.lat[j*d:(j+1)*d])
		}
	}
	if len(m.cfg.Local) > 0 {
		s.local, s.rough = true, make([][]float32, s.n)
	}
	if m.cfg.GenericScale > 0 {
		s.gen = newGeneric(s.lat[:e.K*d], e.K, e.C, h, w, m.cfg.GenericScale, float64(m.cfg.ComponentWidth*m.cfg.ComponentWidth))
	}
	if len(m.cfg.Local) > 0 || s.gen != nil {
		s.norms64 = norms64 // each component's ‖μ_j‖², summed once by sqNorms
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
		out, err := m.predictELS(ctx, x, B, h, w, sigma, bias)
		if err != nil {
			return nil, err
		}
		if err := m.applyControl(out, B, h, w, sigma, c); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		return out, nil
	}
	bias, err := m.prior(c, max(1, float64(h*w)/float64(m.set.H*m.set.W)))
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out, err := m.predictGMM(ctx, x, B, h, w, sigma, bias)
	if err != nil {
		return nil, err
	}
	if err := m.applyControl(out, B, h, w, sigma, c); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	return out, nil
}

// predictGMM is the exact posterior mean of Σ_j π_j N(μ_j, Σ) over the
// components (exemplars at every shift; see components.go for Σ):
// D = m + a1(x − m) + (a2 − a1)·P(x − m), m = attention output (or, below
// the checkpoint's local levels, the local posterior's mean: local.go),
// a1 = s²/(s²+σ²), a2 = (s²+λ)/(s²+λ+σ²) per smooth coefficient. Without a smooth subspace
// (λ = 0) this is Σ_k r_k [μ_k + a(x − μ_k)] of isotropic components.
func (m *Model) predictGMM(ctx context.Context, x *node.Tensor, B, h, w int, sigma float64, bias []float32) (*node.Tensor, error) {
	s := m.at(h, w)
	K := m.set.K
	d := m.cfg.LatentChannels * h * w
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + float64(sigma*sigma)
	a := s2 / v
	out := node.NewTensor(x.Shape...)
	cb := make([]float32, s.n)
	var nd int
	var cx, cr, g, gain []float64
	if s.sm != nil {
		nd = s.sm.dim()
		cx, cr = make([]float64, nd), make([]float64, nd)
		g, gain = s.sm.weights(s2, v)
	}
	for b := 0; b < B; b++ {
		xb := x.Data[b*d : (b+1)*d]
		for j := range cb {
			cb[j] = bias[j%K]
		}
		ob := out.Data[b*d : (b+1)*d]
		if lg := m.localCells(sigma); lg > 0 && s.local {
			m.localMean(ob, xb, s, lg, m.globalLog(xb, s, cb, s2, v), v)
		} else {
			if s.sm != nil {
				// + Σ_i λ_i/(2·v·(v+λ_i))·⟨b_i, x − μ_j⟩², in coefficient space.
				s.sm.coefs(cx, xb)
				for j := range cb {
					cj := s.coef[j*nd : (j+1)*nd]
					var dist float64
					for i, c := range cx {
						dd := c - cj[i]
						dist += float64(g[i] * float64(dd*dd))
					}
					cb[j] = float32(float64(cb[j]) + dist)
				}
			}
			err := m.be.Attention(ctx, &backend.AttentionArgs{NQ: 1, NK: s.n, D: d, DV: d,
				Q: xb, K: s.lat, KNorm: s.norms, Bias: cb, V: s.lat, Variance: float32(v), Out: ob})
			if err != nil {
				return nil, fmt.Errorf("predict: %w", err)
			}
		}
		gen := s.gen != nil && (m.cfg.GenericMaxSigma == 0 || sigma < m.cfg.GenericMaxSigma)
		var rr float64 // ‖x − m‖², for the generic component's weight
		if s.sm != nil || gen {
			// coefficients of x − m, before ob is overwritten
			r := make([]float32, d)
			for i, mv := range ob {
				r[i] = float32(float64(xb[i]) - float64(mv))
			}
			if s.sm != nil {
				s.sm.coefs(cr, r)
			}
			if gen {
				for _, e := range r {
					rr += float64(float64(e) * float64(e))
				}
			}
		}
		var llx float64
		if gen {
			llx = s.exemplarLog(rr, cr, g, v)
		}
		for i, mv := range ob {
			ob[i] = float32(float64(mv) + float64(a*(float64(xb[i])-float64(mv))))
		}
		if s.sm != nil {
			s.sm.addProjection(ob, cr, gain)
		}
		if gen {
			m.mixGeneric(ob, xb, s, llx, float64(sigma*sigma))
		}
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
