package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/model/safetensors"
	"github.com/regen-dev/regen/executor/node"
)

// ControlFormat is the format of a fixture ControlNet file.
const ControlFormat = "regen-control-v1"

// tControlDir is the control file's one tensor: the latent direction [C]
// of a brightness change (what the VAE encoder makes of +1 on every pixel,
// unit length).
const tControlDir = "control.direction"

// ControlNet is a loaded fixture ControlNet (ControlNetLoader): it steers
// the closed-form model spatially toward the structure of a hint image.
// While active, each prediction's brightness layout is pulled toward the
// hint's:
//
//	D'_c(y,x) = D_c(y,x) + k·dir_c·(Amplitude·S(y,x) − p̃(y,x)),
//
// S the hint's luma resampled to the latent and normalised (zero mean,
// unit variance), p̃ the prediction's projection on dir (mean removed),
// k = 1 − exp(−strength·Rate). It is active while σ lies between
// percent_to_sigma(start) and percent_to_sigma(end), as ComfyUI's
// timestep_percent_range.
type ControlNet struct {
	Path      string
	hash      string
	Dir       []float32 // [C], unit length
	Amplitude float64
	Rate      float64
}

// Hash implements node.ControlNet.
func (c *ControlNet) Hash() string { return c.hash }

// ControlFile encodes a control model as a safetensors file.
func ControlFile(dir []float32, amplitude, rate float64) *safetensors.File {
	return &safetensors.File{
		Metadata: map[string]string{"format": ControlFormat, "family": "regen-cfd", "mode": "controlnet",
			"latent_channels": strconv.Itoa(len(dir)), "amplitude": ftoa(amplitude), "rate": ftoa(rate)},
		Tensors: map[string]*safetensors.Tensor{tControlDir: {DType: safetensors.F32, Shape: []int{len(dir)}, Data: dir}},
	}
}

// LoadControlNet reads a fixture ControlNet file.
func LoadControlNet(path string) (*ControlNet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read control model: %w", err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c, err := decodeControl(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	c.Path, c.hash = path, hex.EncodeToString(sum[:])
	return c, nil
}

func decodeControl(f *safetensors.File) (*ControlNet, error) {
	m := f.Metadata
	if m["format"] != ControlFormat {
		return nil, fmt.Errorf("read metadata: format %q, want %q (not a regen ControlNet)", m["format"], ControlFormat)
	}
	ch, err := strconv.Atoi(m["latent_channels"])
	if err != nil || ch < 1 {
		return nil, fmt.Errorf("read metadata latent_channels: %q", m["latent_channels"])
	}
	c := &ControlNet{}
	if c.Amplitude, err = strconv.ParseFloat(m["amplitude"], 64); err != nil || !(c.Amplitude >= 0) {
		return nil, fmt.Errorf("read metadata amplitude: %q", m["amplitude"])
	}
	if c.Rate, err = strconv.ParseFloat(m["rate"], 64); err != nil || !(c.Rate > 0) {
		return nil, fmt.Errorf("read metadata rate: %q", m["rate"])
	}
	t, err := f.Tensor(tControlDir, ch)
	if err != nil {
		return nil, err
	}
	c.Dir = t.Data
	return c, nil
}

// percentToSigma is ComfyUI's ModelSamplingDiscrete.percent_to_sigma over
// the model's table: ∞ at 0 or below, 0 at 1 or above, else σ at timestep
// (1 − p)·999, log-interpolated.
func (m *Model) percentToSigma(p float64) float64 {
	if p <= 0 {
		return 999999999.9
	}
	if p >= 1 {
		return 0
	}
	t := float64((1 - p) * 999)
	t = math.Min(math.Max(t, 0), float64(len(m.sigmas)-1))
	lo, hi := math.Floor(t), math.Ceil(t)
	w := t - lo
	l := float64((1-w)*pmath.Log(m.sigmas[int(lo)])) + float64(w*pmath.Log(m.sigmas[int(hi)]))
	return pmath.Exp(l)
}

// applyControl pulls out [B, C, h, w] toward every active control of c.
func (m *Model) applyControl(out *node.Tensor, B, h, w int, sigma float64, c node.Cond) error {
	for _, ctl := range c.Control {
		if sigma > m.percentToSigma(ctl.Start) || sigma < m.percentToSigma(ctl.End) || ctl.Strength == 0 {
			continue
		}
		net, ok := ctl.Net.(*ControlNet)
		if !ok {
			return fmt.Errorf("apply control: %T is not a regen ControlNet", ctl.Net)
		}
		if len(net.Dir) != m.cfg.LatentChannels {
			return fmt.Errorf("apply control: control model has %d channels, the model %d", len(net.Dir), m.cfg.LatentChannels)
		}
		hint, err := hintMap(ctl.Hint, h, w)
		if err != nil {
			return err
		}
		k := 1 - pmath.Exp(-float64(ctl.Strength*net.Rate))
		C, n := m.cfg.LatentChannels, h*w
		p := make([]float64, n)
		for b := 0; b < B; b++ {
			img := out.Data[b*C*n : (b+1)*C*n]
			var mean float64
			for i := range p {
				var s float64
				for ch := 0; ch < C; ch++ {
					s += float64(float64(net.Dir[ch]) * float64(img[ch*n+i]))
				}
				p[i] = s
				mean += s
			}
			mean /= float64(n)
			for i := range p {
				delta := float64(k * (float64(net.Amplitude*hint[i]) - (p[i] - mean)))
				for ch := 0; ch < C; ch++ {
					img[ch*n+i] = float32(float64(img[ch*n+i]) + float64(float64(net.Dir[ch])*delta))
				}
			}
		}
	}
	return nil
}

// hintMap is the hint image's luma (first batch item, mean of R, G, B)
// resampled to h×w and normalised to zero mean and unit variance (all
// zeros for a flat hint).
func hintMap(im *node.Image, h, w int) ([]float64, error) {
	if im == nil || im.N < 1 || im.C < 3 || len(im.Pix) < im.H*im.W*im.C {
		return nil, fmt.Errorf("apply control: hint image is empty")
	}
	luma := make([]float32, im.H*im.W)
	for i := range luma {
		px := im.Pix[i*im.C : i*im.C+3]
		luma[i] = float32((float64(px[0]) + float64(px[1]) + float64(px[2])) / 3)
	}
	r := resample(luma, 1, im.H, im.W, h, w)
	var mean, v float64
	for _, x := range r {
		mean += float64(x)
	}
	mean /= float64(len(r))
	out := make([]float64, len(r))
	for i, x := range r {
		out[i] = float64(x) - mean
		v += float64(out[i] * out[i])
	}
	if v < 1e-12 {
		return make([]float64, len(r)), nil
	}
	inv := 1 / math.Sqrt(v/float64(len(r)))
	for i := range out {
		out[i] = float64(out[i] * inv)
	}
	return out, nil
}
