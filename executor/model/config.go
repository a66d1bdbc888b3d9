package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Format is the checkpoint family and version this package reads and writes.
const Format = "regen-cfd-v1"

// Denoiser modes.
const (
	ModeGMM  = "gmm"  // exact posterior mean of a Gaussian mixture
	ModeELS  = "els"  // equivariant local score machine over patches
	ModeLoRA = "lora" // a LoRA file: extra exemplars and embedding deltas
)

// PatchLevel says which ELS patch size to use from a noise level upwards:
// the first level (in order) whose MinSigma ≤ σ wins. Size 0 means the
// whole latent (the gmm posterior).
type PatchLevel struct {
	MinSigma float64 `json:"min_sigma"`
	Size     int     `json:"size"`
}

// LocalLevel says how finely the gmm posterior is local from a noise level
// downwards: the first level (in order) whose MinSigma ≤ σ wins. Cells is
// the number of cells per side of the latent; each cell weighs the
// components by its own 3×3-cell neighbourhood (see local.go). 0 means the
// whole latent (the global posterior).
type LocalLevel struct {
	MinSigma float64 `json:"min_sigma"`
	Cells    int     `json:"cells"`
}

// Config is a checkpoint's __metadata__, decoded.
type Config struct {
	Mode           string
	LatentChannels int
	Downscale      int
	Schedule       Schedule
	// ComponentWidth is the Gaussian width s of each exemplar (both modes).
	ComponentWidth  float64
	TextTemperature float64 // τ in log π_k = τ·⟨e(c), key_k⟩
	EmbeddingDim    int
	Vocabulary      []string // rows of the token table (or of the deltas)
	StopWords       []string
	Captions        []string // one per exemplar, informational
	// ELS: patch size by noise level, candidate window radius and query tile
	// edge, in latent pixels.
	Patches []PatchLevel
	Window  int
	Tile    int
	// CodebookVariance is the VAE decoder's attention variance; DetailGate
	// is the squared neighbourhood mismatch at which codebook detail is
	// attenuated by e^(-1/2).
	CodebookVariance float64
	DetailGate       float64
	// Shifts are translations (dy, dx), as fractions of the latent's height
	// and width: the global posterior's components are the exemplars as
	// drawn and at each of these (equivariance: a seed can place the scene
	// wherever the shifts allow). Empty means the exemplars as drawn only.
	Shifts [][2]float64
	// LowFreq and LowFreqWidth widen every component along the smooth
	// part of a latent: the LowFreq×LowFreq lowest 2-D DCT-II frequencies
	// of each channel get variance ComponentWidth² + LowFreqWidth², the
	// rest ComponentWidth². A sample then keeps a continuous, smooth
	// colour and lighting field that the trajectory (seed, sampler,
	// schedule, steps, cfg, denoise) decides. 0 leaves components
	// isotropic.
	// LowFreqDecay scales the extra variance per polynomial degree:
	// coefficient (u, v) gets LowFreqWidth²·LowFreqDecay^(u+v).
	LowFreq      int
	LowFreqWidth float64
	LowFreqDecay float64
	// UnknownWeight is the weight of a word outside the vocabulary: it is
	// embedded as a deterministic pseudo-random unit vector derived from
	// the word (a hashed token embedding), times its emphasis and this
	// weight, so every prompt steers. 0 ignores such words.
	UnknownWeight float64
	// Local makes the gmm posterior local as σ falls (the layout is
	// decided globally, shapes and edges cell by cell, later in the
	// trajectory): see LocalLevel. Empty keeps it global at every σ.
	Local []LocalLevel
	// GenericScale > 0 adds the generic component (generic.go): the
	// Gaussian fitted to the exemplars, diagonal in the DCT basis, its
	// variances scaled by GenericScale. GenericLogWeight is its prior
	// weight over the exemplars' together, log(π_g / Σ_j π_j).
	// GenericMaxSigma: the generic component takes part only below this
	// noise level (0: at every level).
	GenericScale     float64
	GenericLogWeight float64
	GenericMaxSigma  float64
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// metadata encodes c as the safetensors string map.
func (c *Config) metadata() (map[string]string, error) {
	m := map[string]string{
		"format":                Format,
		"family":                "regen-cfd",
		"mode":                  c.Mode,
		"latent_channels":       strconv.Itoa(c.LatentChannels),
		"downscale":             strconv.Itoa(c.Downscale),
		"beta_schedule":         "scaled_linear",
		"linear_start":          ftoa(c.Schedule.LinearStart),
		"linear_end":            ftoa(c.Schedule.LinearEnd),
		"timesteps":             strconv.Itoa(c.Schedule.Timesteps),
		"component_width":       ftoa(c.ComponentWidth),
		"text_temperature":      ftoa(c.TextTemperature),
		"embedding_dim":         strconv.Itoa(c.EmbeddingDim),
		"window":                strconv.Itoa(c.Window),
		"tile":                  strconv.Itoa(c.Tile),
		"vae_codebook_variance": ftoa(c.CodebookVariance),
		"vae_detail_gate":       ftoa(c.DetailGate),
	}
	if c.LowFreq > 0 {
		m["low_freq"] = strconv.Itoa(c.LowFreq)
		m["low_freq_width"] = ftoa(c.LowFreqWidth)
		m["low_freq_decay"] = ftoa(c.LowFreqDecay)
	}
	if c.UnknownWeight != 0 {
		m["text_unknown_weight"] = ftoa(c.UnknownWeight)
	}
	if c.GenericScale > 0 {
		m["generic_scale"] = ftoa(c.GenericScale)
		m["generic_log_weight"] = ftoa(c.GenericLogWeight)
		m["generic_max_sigma"] = ftoa(c.GenericMaxSigma)
	}
	lists := []struct {
		key string
		val any
	}{{"vocabulary", c.Vocabulary}, {"stop_words", c.StopWords}, {"captions", c.Captions}, {"patch_schedule", c.Patches}}
	if len(c.Shifts) > 0 {
		lists = append(lists, struct {
			key string
			val any
		}{"shifts", c.Shifts})
	}
	if len(c.Local) > 0 {
		lists = append(lists, struct {
			key string
			val any
		}{"local_schedule", c.Local})
	}
	for _, l := range lists {
		b, err := json.Marshal(l.val)
		if err != nil {
			return nil, fmt.Errorf("encode metadata %s: %w", l.key, err)
		}
		m[l.key] = string(b)
	}
	return m, nil
}

// parseConfig decodes and checks a checkpoint's metadata.
func parseConfig(m map[string]string) (*Config, error) {
	if m["format"] != Format {
		return nil, fmt.Errorf("read metadata: format %q, want %q", m["format"], Format)
	}
	c := &Config{Mode: m["mode"]}
	var err error
	geti := func(k string) int {
		if err != nil {
			return 0
		}
		var v int
		v, err = strconv.Atoi(m[k])
		if err != nil {
			err = fmt.Errorf("read metadata %s: %w", k, err)
		}
		return v
	}
	getf := func(k string) float64 {
		if err != nil {
			return 0
		}
		var v float64
		v, err = strconv.ParseFloat(m[k], 64)
		if err != nil {
			err = fmt.Errorf("read metadata %s: %w", k, err)
		}
		return v
	}
	getj := func(k string, dst any) {
		if err != nil {
			return
		}
		if e := json.Unmarshal([]byte(m[k]), dst); e != nil {
			err = fmt.Errorf("read metadata %s: %w", k, e)
		}
	}
	c.LatentChannels = geti("latent_channels")
	c.Downscale = geti("downscale")
	c.Schedule = Schedule{LinearStart: getf("linear_start"), LinearEnd: getf("linear_end"), Timesteps: geti("timesteps")}
	c.ComponentWidth = getf("component_width")
	c.TextTemperature = getf("text_temperature")
	c.EmbeddingDim = geti("embedding_dim")
	c.Window = geti("window")
	c.Tile = geti("tile")
	c.CodebookVariance = getf("vae_codebook_variance")
	c.DetailGate = getf("vae_detail_gate")
	getj("vocabulary", &c.Vocabulary)
	getj("stop_words", &c.StopWords)
	getj("captions", &c.Captions)
	getj("patch_schedule", &c.Patches)
	// Optional keys (absent in checkpoints from before issue 13).
	if _, ok := m["shifts"]; ok {
		getj("shifts", &c.Shifts)
	}
	if _, ok := m["local_schedule"]; ok {
		getj("local_schedule", &c.Local)
	}
	if _, ok := m["low_freq"]; ok {
		c.LowFreq = geti("low_freq")
		c.LowFreqWidth = getf("low_freq_width")
		c.LowFreqDecay = getf("low_freq_decay")
	}
	if _, ok := m["text_unknown_weight"]; ok {
		c.UnknownWeight = getf("text_unknown_weight")
	}
	if _, ok := m["generic_scale"]; ok {
		c.GenericScale = getf("generic_scale")
		c.GenericLogWeight = getf("generic_log_weight")
		if _, ok := m["generic_max_sigma"]; ok {
			c.GenericMaxSigma = getf("generic_max_sigma")
		}
	}
	if err != nil {
		return nil, err
	}
	switch {
	case c.Mode != ModeGMM && c.Mode != ModeELS && c.Mode != ModeLoRA:
		return nil, fmt.Errorf("read metadata: unknown mode %q", c.Mode)
	case c.LatentChannels <= 0 || c.Downscale <= 0 || c.EmbeddingDim <= 0:
		return nil, fmt.Errorf("read metadata: bad latent channels %d, downscale %d or embedding dim %d", c.LatentChannels, c.Downscale, c.EmbeddingDim)
	case c.Mode != ModeLoRA && (c.Schedule.Timesteps < 2 || c.Schedule.LinearStart <= 0 || c.Schedule.LinearEnd <= c.Schedule.LinearStart || c.Schedule.LinearEnd >= 1):
		return nil, fmt.Errorf("read metadata: bad noise schedule %+v", c.Schedule)
	case c.Mode != ModeLoRA && (c.ComponentWidth <= 0 || c.CodebookVariance <= 0 || c.DetailGate <= 0):
		return nil, fmt.Errorf("read metadata: component width, codebook variance and detail gate must be positive")
	case c.Mode == ModeELS && (len(c.Patches) == 0 || c.Window < 0 || c.Tile <= 0):
		return nil, fmt.Errorf("read metadata: els needs a patch schedule, window ≥ 0 and tile > 0")
	}
	if c.LowFreq < 0 || c.LowFreq > 8 || !(c.LowFreqWidth >= 0) || math.IsNaN(c.UnknownWeight) ||
		(c.LowFreq > 0 && !(c.LowFreqDecay > 0 && c.LowFreqDecay <= 1)) {
		return nil, fmt.Errorf("read metadata: low_freq %d must be 0..8, low_freq_width %v ≥ 0 and low_freq_decay %v in (0, 1]",
			c.LowFreq, c.LowFreqWidth, c.LowFreqDecay)
	}
	if _, ok := m["generic_scale"]; ok && !(c.GenericScale > 0 && !math.IsInf(c.GenericScale, 0) && !math.IsNaN(c.GenericLogWeight) && !math.IsInf(c.GenericLogWeight, 0) && c.GenericMaxSigma >= 0) {
		return nil, fmt.Errorf("read metadata: generic_scale %v must be positive, generic_log_weight %v finite and generic_max_sigma %v ≥ 0",
			c.GenericScale, c.GenericLogWeight, c.GenericMaxSigma)
	}
	if len(c.Shifts) > 16 {
		return nil, fmt.Errorf("read metadata: %d shifts, at most 16", len(c.Shifts))
	}
	for _, p := range c.Shifts {
		for _, f := range p {
			if !(f > -0.5 && f < 0.5) {
				return nil, fmt.Errorf("read metadata: shift %v must be in (-0.5, 0.5)", p)
			}
		}
	}
	for _, l := range c.Local {
		if l.Cells != 0 && (l.Cells < 2 || l.Cells > 64) || !(l.MinSigma >= 0) {
			return nil, fmt.Errorf("read metadata: local level %+v: cells must be 0 (global) or 2..64, min_sigma ≥ 0", l)
		}
	}
	for _, p := range c.Patches {
		if p.Size != 0 && (p.Size < 1 || p.Size%2 == 0 || p.Size > 31) {
			return nil, fmt.Errorf("read metadata: patch size %d must be 0 (global) or odd, 1..31", p.Size)
		}
	}
	return c, nil
}
