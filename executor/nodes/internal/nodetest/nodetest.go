// Package nodetest holds what the node families' tests share: running a
// node and checking its outputs against its spec, a small exact model, and
// latent helpers. Only tests import it.
package nodetest

import (
	"bytes"
	"context"
	"image/png"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// Exec runs n once and fails the test on an error or when the number of
// outputs differs from the spec's.
func Exec(t testing.TB, n node.Node, env *node.Env, in map[string]any) []any {
	t.Helper()
	r, err := n.Execute(context.Background(), env, in)
	if err != nil {
		t.Fatalf("%s: %v", n.Spec().Name, err)
	}
	if len(r.Outputs) != len(n.Spec().Outputs) {
		t.Fatalf("%s: %d outputs, spec has %d", n.Spec().Name, len(r.Outputs), len(n.Spec().Outputs))
	}
	return r.Outputs
}

// Find returns the node class named class among nodes.
func Find(t testing.TB, nodes []node.Node, class string) node.Node {
	t.Helper()
	for _, n := range nodes {
		if n.Spec().Name == class {
			return n
		}
	}
	t.Fatalf("node class %s not found", class)
	return nil
}

// Model is a model whose denoiser is exact for data N(μ, 0.5²) per element,
// with μ = Vec[0] of the conditioning (0 for the empty prompt). Channels is
// its latent channel count, 4 when zero.
type Model struct{ Channels int }

var _ node.Model = Model{}

// Predict is the exact posterior mean.
func (m Model) Predict(_ context.Context, x *node.Tensor, sigma float64, c node.Cond) (*node.Tensor, error) {
	mu := 0.0
	if len(c.Vec) > 0 {
		mu = float64(c.Vec[0])
	}
	// Products are rounded explicitly so that no machine fuses them
	// (hack/fma-check.sh).
	k := 0.25 / (0.25 + float64(sigma*sigma))
	out := node.NewTensor(x.Shape...)
	for i, v := range x.Data {
		out.Data[i] = float32(mu + float64(k*(float64(v)-mu)))
	}
	return out, nil
}

// SigmaTable is the SD1 table.
func (m Model) SigmaTable() []float64 { return sampling.DefaultTable() }

// LatentChannels is Channels, or 4.
func (m Model) LatentChannels() int {
	if m.Channels == 0 {
		return 4
	}
	return m.Channels
}

// Hash is "fake".
func (m Model) Hash() string { return "fake" }

// Latent returns a zero LATENT of b samples of 4×h×w.
func Latent(b, h, w int) *node.Latent {
	return &node.Latent{Samples: node.NewTensor(b, 4, h, w)}
}

// Samples returns the samples of a LATENT output.
func Samples(t testing.TB, v any) *node.Tensor {
	t.Helper()
	l, ok := v.(*node.Latent)
	if !ok || l.Samples == nil {
		t.Fatalf("output is %T, want *node.Latent with samples", v)
	}
	return l.Samples
}

// KSamplerInputs are KSampler's inputs over Model with CFG 7 between μ =
// 0.8 and μ = 0.2, denoise 1.
func KSamplerInputs(lat *node.Latent, sampler, sched string, steps int64, seed uint64) map[string]any {
	return map[string]any{
		"model": node.Model(Model{}), "seed": seed, "steps": steps, "cfg": 7.0,
		"sampler_name": sampler, "scheduler": sched,
		"positive": node.Conditioning{{Vec: []float32{0.8}}}, "negative": node.Conditioning{{Vec: []float32{0.2}}},
		"latent_image": lat, "denoise": 1.0,
	}
}

// PixelRGBA decodes a PNG and returns pixel (x, y) as 8-bit RGBA.
func PixelRGBA(t testing.TB, data []byte, x, y int) [4]uint8 {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	r, g, b, a := m.At(x, y).RGBA()
	return [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
