package node

import (
	"context"
	"fmt"
	"reflect"
)

// Image is ComfyUI's IMAGE: a batch [N, H, W, C] of float32 in 0..1, C = 3
// (RGB) unless stated otherwise, stored row-major (N, then H, then W, then C).
type Image struct {
	N, H, W, C int
	Pix        []float32
}

// NewImage allocates a zero image.
func NewImage(n, h, w, c int) *Image {
	return &Image{N: n, H: h, W: w, C: c, Pix: make([]float32, n*h*w*c)}
}

// At returns the index of sample b, row y, column x, channel 0.
func (im *Image) At(b, y, x int) int { return ((b*im.H+y)*im.W + x) * im.C }

// Mask is ComfyUI's MASK: [N, H, W] float32.
type Mask struct {
	N, H, W int
	Pix     []float32
}

// Tensor is a dense float32 tensor with a shape, row-major.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor allocates a zero tensor.
func NewTensor(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Numel returns the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Latent is ComfyUI's LATENT dict: samples [B, C, h, w] plus optional
// batch_index (set by LatentFromBatch / RepeatLatentBatch) and noise mask.
type Latent struct {
	Samples    *Tensor
	BatchIndex []int
	NoiseMask  *Tensor
}

// Cond is one conditioning entry: a text embedding (the zero vector for
// ConditioningZeroOut / the empty prompt).
type Cond struct {
	Vec  []float32
	Text string // the prompt it came from, for provenance and logs
}

// Conditioning is ComfyUI's CONDITIONING: a list of entries
// (ConditioningCombine concatenates).
type Conditioning []Cond

// Model is what MODEL values implement: a denoiser over latents.
type Model interface {
	// Predict returns the denoised prediction D(x, σ | c) for the latent
	// batch x [B, C, h, w] at noise level sigma under conditioning c.
	Predict(ctx context.Context, x *Tensor, sigma float64, c Cond) (*Tensor, error)
	// SigmaTable returns the discrete schedule (1000 σ values, ascending),
	// as ComfyUI's ModelSamplingDiscrete.sigmas.
	SigmaTable() []float64
	// LatentChannels is the model's latent channel count (4).
	LatentChannels() int
	// Hash identifies the model weights (with LoRAs applied), for
	// provenance.
	Hash() string
}

// CLIP is what CLIP values implement: a text encoder.
type CLIP interface {
	Encode(text string) (Cond, error)
}

// VAE is what VAE values implement.
type VAE interface {
	Encode(ctx context.Context, img *Image) (*Tensor, error)
	Decode(ctx context.Context, latent *Tensor) (*Image, error)
	// Downscale is the spatial factor between pixels and latents (8).
	Downscale() int
}

// As converts a linked input value to T with a clear error (naming T even
// when T is an interface type such as Model).
func As[T any](in map[string]any, name string) (T, error) {
	var zero T
	v, ok := in[name]
	if !ok {
		return zero, fmt.Errorf("input %s: missing", name)
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("input %s: got %T, want %s", name, v, reflect.TypeFor[T]())
	}
	return t, nil
}

// Int returns an INT input as int64 (clamped for uint64 values above the
// int64 range, which only seeds use; read those with Uint).
func Int(in map[string]any, name string) (int64, error) {
	switch v := in[name].(type) {
	case int64:
		return v, nil
	case uint64:
		if v > 1<<63-1 {
			return 1<<63 - 1, nil
		}
		return int64(v), nil
	case int:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case nil:
		return 0, fmt.Errorf("input %s: missing", name)
	default:
		return 0, fmt.Errorf("input %s: got %T, want INT", name, v)
	}
}

// Uint returns an INT input as uint64 (seeds: 0..2^64-1).
func Uint(in map[string]any, name string) (uint64, error) {
	switch v := in[name].(type) {
	case uint64:
		return v, nil
	case int64:
		if v < 0 {
			return 0, fmt.Errorf("input %s: %d is negative", name, v)
		}
		return uint64(v), nil
	case int:
		if v < 0 {
			return 0, fmt.Errorf("input %s: %d is negative", name, v)
		}
		return uint64(v), nil
	case nil:
		return 0, fmt.Errorf("input %s: missing", name)
	default:
		return 0, fmt.Errorf("input %s: got %T, want INT", name, v)
	}
}

// Float returns a FLOAT input.
func Float(in map[string]any, name string) (float64, error) {
	switch v := in[name].(type) {
	case float64:
		return v, nil
	case int64:
		return float64(v), nil
	case int:
		return float64(v), nil
	case nil:
		return 0, fmt.Errorf("input %s: missing", name)
	default:
		return 0, fmt.Errorf("input %s: got %T, want FLOAT", name, v)
	}
}

// String returns a STRING or COMBO input.
func String(in map[string]any, name string) (string, error) {
	v, ok := in[name].(string)
	if !ok {
		return "", fmt.Errorf("input %s: got %T, want STRING", name, in[name])
	}
	return v, nil
}

// Bool returns a BOOLEAN input.
func Bool(in map[string]any, name string) (bool, error) {
	v, ok := in[name].(bool)
	if !ok {
		return false, fmt.Errorf("input %s: got %T, want BOOLEAN", name, in[name])
	}
	return v, nil
}
