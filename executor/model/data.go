package model

import (
	"encoding/json"
	"fmt"

	"github.com/regen-dev/regen/executor/model/safetensors"
)

// Tensor names inside checkpoint and LoRA files.
const (
	tExemplars  = "exemplars.latents"    // [K, C, H, W] F16
	tKeys       = "exemplars.keys"       // [K, E] caption embeddings
	tEmbeddings = "text.token_embedding" // [V, E] (checkpoints)
	tDelta      = "text.token_delta"     // [V, E] (LoRAs)
	tVAEMean    = "vae.mean"             // [P] mean pixel patch, P = downscale²·3
	tVAEEnc     = "vae.encoder"          // [C, P]
	tVAEDec     = "vae.decoder"          // [P, C]
	// codebooks: "vae.codebook.<side>.keys" [N, 9C] F16 (3×3 latent
	// neighbourhoods) and ".patches" [N, P] U8 (pixel patches as 8-bit
	// levels: pixel = level/255), one pair per latent side listed in the
	// metadata.
	tCodebook = "vae.codebook.%d.%s"
)

// Codebook pairs latent neighbourhoods with pixel patches for latents of
// about Side×Side: the decoder uses the codebook whose Side is nearest (in
// log scale) to the latent it decodes.
type Codebook struct {
	Side  int
	N     int
	Keys  []float32 // [N, 9C]
	Patch []float32 // [N, P], pixels in 0..1 on the k/255 grid (see QuantizePatch)
}

// patchLevels is the number of steps in a stored codebook pixel: patches are
// written as U8 levels and read back as level/patchLevels.
const patchLevels = 255

// QuantizePatch rounds pixels in place to the 8-bit grid a checkpoint
// stores codebook patches on (nearest k/255, clamped to 0..1), so that a
// model built in memory computes with exactly the values its file holds.
func QuantizePatch(v []float32) {
	for i, x := range v {
		v[i] = patchLevel(x) / patchLevels
	}
}

// patchLevel is the U8 level (0..255, as float32) of pixel x.
func patchLevel(x float32) float32 {
	return safetensors.Quantize(safetensors.U8, float32(float64(x)*patchLevels))
}

// VAEWeights are the VAE's tensors.
type VAEWeights struct {
	Mean      []float32 // [P]
	Encoder   []float32 // [C, P]
	Decoder   []float32 // [P, C]
	Codebooks []Codebook
}

// Data is the content of a checkpoint or LoRA file.
type Data struct {
	Config     Config
	K, H, W    int       // exemplar count and latent size
	Exemplars  []float32 // [K, C, H, W]
	Keys       []float32 // [K, E]
	Embeddings []float32 // [V, E]: the token table, or a LoRA's deltas
	VAE        *VAEWeights
}

// patchDim is the pixel dimension of one latent position.
func (c *Config) patchDim() int { return c.Downscale * c.Downscale * 3 }

// File encodes d as a safetensors file (exemplars and codebook keys in F16,
// codebook patches as U8 levels, rounding any pixel off the k/255 grid).
func (d *Data) File() (*safetensors.File, error) {
	c := &d.Config
	meta, err := c.metadata()
	if err != nil {
		return nil, err
	}
	C, E := c.LatentChannels, c.EmbeddingDim
	f := &safetensors.File{Metadata: meta, Tensors: map[string]*safetensors.Tensor{
		tExemplars: {DType: safetensors.F16, Shape: []int{d.K, C, d.H, d.W}, Data: d.Exemplars},
		tKeys:      {DType: safetensors.F32, Shape: []int{d.K, E}, Data: d.Keys},
	}}
	emb := tEmbeddings
	if c.Mode == ModeLoRA {
		emb = tDelta
	}
	f.Tensors[emb] = &safetensors.Tensor{DType: safetensors.F32, Shape: []int{len(c.Vocabulary), E}, Data: d.Embeddings}
	if v := d.VAE; v != nil {
		P := c.patchDim()
		f.Tensors[tVAEMean] = &safetensors.Tensor{DType: safetensors.F32, Shape: []int{P}, Data: v.Mean}
		f.Tensors[tVAEEnc] = &safetensors.Tensor{DType: safetensors.F32, Shape: []int{C, P}, Data: v.Encoder}
		f.Tensors[tVAEDec] = &safetensors.Tensor{DType: safetensors.F32, Shape: []int{P, C}, Data: v.Decoder}
		sides := make([]int, len(v.Codebooks))
		for i, cb := range v.Codebooks {
			sides[i] = cb.Side
			f.Tensors[fmt.Sprintf(tCodebook, cb.Side, "keys")] = &safetensors.Tensor{DType: safetensors.F16, Shape: []int{cb.N, 9 * C}, Data: cb.Keys}
			levels := make([]float32, len(cb.Patch))
			for j, x := range cb.Patch {
				levels[j] = patchLevel(x)
			}
			f.Tensors[fmt.Sprintf(tCodebook, cb.Side, "patches")] = &safetensors.Tensor{DType: safetensors.U8, Shape: []int{cb.N, P}, Data: levels}
		}
		b, err := json.Marshal(sides)
		if err != nil {
			return nil, fmt.Errorf("encode codebook sides: %w", err)
		}
		f.Metadata["vae_codebook_sides"] = string(b)
	}
	return f, nil
}

// DecodeData checks and decodes a parsed checkpoint or LoRA file.
func DecodeData(f *safetensors.File) (*Data, error) {
	c, err := parseConfig(f.Metadata)
	if err != nil {
		return nil, err
	}
	C, E := c.LatentChannels, c.EmbeddingDim
	d := &Data{Config: *c}
	ex, err := f.Tensor(tExemplars, -1, C, -1, -1)
	if err != nil {
		return nil, err
	}
	d.K, d.H, d.W, d.Exemplars = ex.Shape[0], ex.Shape[2], ex.Shape[3], ex.Data
	if d.K < 1 || d.H < 1 || d.W < 1 {
		return nil, fmt.Errorf("read exemplars: empty shape %v", ex.Shape)
	}
	keys, err := f.Tensor(tKeys, d.K, E)
	if err != nil {
		return nil, err
	}
	d.Keys = keys.Data
	emb := tEmbeddings
	if c.Mode == ModeLoRA {
		emb = tDelta
	}
	et, err := f.Tensor(emb, len(c.Vocabulary), E)
	if err != nil {
		return nil, err
	}
	d.Embeddings = et.Data
	if c.Mode == ModeLoRA {
		return d, nil
	}
	P := c.patchDim()
	v := &VAEWeights{}
	var t *safetensors.Tensor
	if t, err = f.Tensor(tVAEMean, P); err != nil {
		return nil, err
	}
	v.Mean = t.Data
	if t, err = f.Tensor(tVAEEnc, C, P); err != nil {
		return nil, err
	}
	v.Encoder = t.Data
	if t, err = f.Tensor(tVAEDec, P, C); err != nil {
		return nil, err
	}
	v.Decoder = t.Data
	var sides []int
	if err := json.Unmarshal([]byte(f.Metadata["vae_codebook_sides"]), &sides); err != nil {
		return nil, fmt.Errorf("read metadata vae_codebook_sides: %w", err)
	}
	if len(sides) == 0 {
		return nil, fmt.Errorf("read metadata vae_codebook_sides: no codebook")
	}
	for _, side := range sides {
		cb := Codebook{Side: side}
		if side < 1 {
			return nil, fmt.Errorf("read metadata vae_codebook_sides: bad side %d", side)
		}
		if t, err = f.Tensor(fmt.Sprintf(tCodebook, side, "keys"), -1, 9*C); err != nil {
			return nil, err
		}
		cb.Keys, cb.N = t.Data, t.Shape[0]
		if cb.N < 1 {
			return nil, fmt.Errorf("read codebook %d: empty", side)
		}
		if t, err = f.Tensor(fmt.Sprintf(tCodebook, side, "patches"), cb.N, P); err != nil {
			return nil, err
		}
		if t.DType != safetensors.U8 {
			return nil, fmt.Errorf("read codebook %d patches: dtype %s, want U8", side, t.DType)
		}
		cb.Patch = make([]float32, len(t.Data))
		for j, l := range t.Data {
			cb.Patch[j] = l / patchLevels
		}
		v.Codebooks = append(v.Codebooks, cb)
	}
	d.VAE = v
	return d, nil
}
