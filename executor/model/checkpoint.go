package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/model/safetensors"
)

// Checkpoint is a loaded checkpoint: what CheckpointLoaderSimple returns.
type Checkpoint struct {
	Path   string
	Hash   string // SHA-256 of the file
	Config *Config
	model  *Model
	text   *TextEncoder
	vae    *VAE
}

// Model returns the denoiser (MODEL).
func (c *Checkpoint) Model() *Model { return c.model }

// CLIP returns the text encoder (CLIP).
func (c *Checkpoint) CLIP() *TextEncoder { return c.text }

// VAE returns the VAE.
func (c *Checkpoint) VAE() *VAE { return c.vae }

func readData(path string) (*Data, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read model file: %w", err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, "", fmt.Errorf("parse %s: %w", path, err)
	}
	d, err := DecodeData(f)
	if err != nil {
		return nil, "", fmt.Errorf("load %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	return d, hex.EncodeToString(sum[:]), nil
}

// LoadCheckpoint reads a regen-cfd checkpoint (gmm or els) and builds its
// model, text encoder and VAE on the given backend.
func LoadCheckpoint(path string, be backend.Attender) (*Checkpoint, error) {
	d, hash, err := readData(path)
	if err != nil {
		return nil, err
	}
	if d.Config.Mode == ModeLoRA {
		return nil, fmt.Errorf("load %s: is a LoRA, not a checkpoint", path)
	}
	c, err := NewCheckpoint(d, hash, be)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// NewCheckpoint builds a checkpoint from decoded data (the generator uses it
// to evaluate what it is about to write).
func NewCheckpoint(d *Data, hash string, be backend.Attender) (*Checkpoint, error) {
	cfg := d.Config
	if d.VAE == nil {
		return nil, fmt.Errorf("build checkpoint: no VAE")
	}
	text, err := NewTextEncoder(cfg.Vocabulary, d.Embeddings, cfg.EmbeddingDim, cfg.StopWords, hash)
	if err != nil {
		return nil, fmt.Errorf("build checkpoint: %w", err)
	}
	text = text.WithUnknownWeight(cfg.UnknownWeight)
	set := &exemplarSet{K: d.K, C: cfg.LatentChannels, H: d.H, W: d.W, lat: d.Exemplars, keys: d.Keys, logw: make([]float32, d.K)}
	return &Checkpoint{Hash: hash, Config: &cfg, model: newModel(&cfg, be, set, hash), text: text, vae: NewVAE(&cfg, d.VAE, be)}, nil
}

// LoadVAE reads only the VAE of a checkpoint file (VAELoader).
func LoadVAE(path string, be backend.Attender) (*VAE, error) {
	d, _, err := readData(path)
	if err != nil {
		return nil, err
	}
	if d.VAE == nil {
		return nil, fmt.Errorf("load %s: holds no VAE", path)
	}
	return NewVAE(&d.Config, d.VAE, be), nil
}

// LoRA is a loaded LoRA file: extra exemplars with caption keys and
// token-embedding deltas.
type LoRA struct {
	Path string
	Hash string
	data *Data
}

// LoadLoRA reads a LoRA file.
func LoadLoRA(path string) (*LoRA, error) {
	d, hash, err := readData(path)
	if err != nil {
		return nil, err
	}
	if d.Config.Mode != ModeLoRA {
		return nil, fmt.Errorf("load %s: mode %q is not a LoRA", path, d.Config.Mode)
	}
	return &LoRA{Path: path, Hash: hash, data: d}, nil
}

// WithLoRA returns a model whose mixture also holds the LoRA's exemplars,
// each with prior weight strength (log-weight bias log strength); a
// strength ≤ 0 leaves them out. Hash covers the LoRA and strength.
func (m *Model) WithLoRA(l *LoRA, strength float64) (*Model, error) {
	ld := l.data
	if ld.Config.LatentChannels != m.cfg.LatentChannels || ld.Config.EmbeddingDim != m.cfg.EmbeddingDim {
		return nil, fmt.Errorf("apply LoRA %s: channels %d / embedding %d do not match the model's %d / %d",
			l.Path, ld.Config.LatentChannels, ld.Config.EmbeddingDim, m.cfg.LatentChannels, m.cfg.EmbeddingDim)
	}
	hash := hashOf(m.hash, "lora", l.Hash, ftoa(strength))
	if strength <= 0 {
		return newModel(m.cfg, m.be, m.set, hash), nil
	}
	e := m.set
	lat := resample(ld.Exemplars, ld.K*e.C, ld.H, ld.W, e.H, e.W)
	lw := float32(pmath.Log(strength))
	set := &exemplarSet{K: e.K + ld.K, C: e.C, H: e.H, W: e.W,
		lat:  append(append([]float32(nil), e.lat...), lat...),
		keys: append(append([]float32(nil), e.keys...), ld.Keys...),
		logw: append([]float32(nil), e.logw...)}
	for k := 0; k < ld.K; k++ {
		set.logw = append(set.logw, lw)
	}
	return newModel(m.cfg, m.be, set, hash), nil
}

// WithLoRA returns an encoder with the LoRA's deltas scaled by strength
// added (new words join the vocabulary).
func (e *TextEncoder) WithLoRA(l *LoRA, strength float64) (*TextEncoder, error) {
	ld := l.data
	if ld.Config.EmbeddingDim != e.dim {
		return nil, fmt.Errorf("apply LoRA %s: embedding dim %d, encoder has %d", l.Path, ld.Config.EmbeddingDim, e.dim)
	}
	return e.withDelta(ld.Config.Vocabulary, ld.Embeddings, strength, hashOf(e.hash, "lora", l.Hash, ftoa(strength)))
}
