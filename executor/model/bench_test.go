package model

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/backendtest"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
)

// naive adapts the reference attention to backend.Attender.
type naive struct{}

func (naive) Attention(_ context.Context, a *backend.AttentionArgs) error {
	backendtest.Reference(a)
	return nil
}

// BenchmarkPredict times one Predict (σ = 1: 7×7 patches for els; σ = 0.1: 3×3;
// gmm is global at every σ) per mode and latent size on the fast and the naive backend:
//
//	go test -run XXX -bench Predict -benchtime 3x ./executor/model
func BenchmarkPredict(b *testing.B) {
	backends := []struct {
		name string
		be   backend.Attender
	}{{"fast", cpu.New()}, {"naive", naive{}}}
	for _, file := range []string{"regen-gmm.safetensors", "regen-els.safetensors"} {
		for _, bk := range backends {
			c, err := LoadCheckpoint(filepath.Join(modelsDir(), "checkpoints", file), bk.be)
			if err != nil {
				b.Fatal(err)
			}
			cond, _ := c.CLIP().Encode("a red circle on sky")
			for _, side := range []int{32, 64} {
				for _, sigma := range []float64{1, 0.1} {
					x := node.NewTensor(1, 4, side, side)
					for i, v := range gauss(1, x.Numel()) {
						x.Data[i] = float32(sigma) * v
					}
					name := fmt.Sprintf("%s/%s/%dx%d/sigma=%g", c.Config.Mode, bk.name, side, side, sigma)
					b.Run(name, func(b *testing.B) {
						for i := 0; i < b.N; i++ {
							if _, err := c.Model().Predict(context.Background(), x, sigma, cond); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		}
	}
}

// BenchmarkVAEDecode times one decode per latent size (each uses the
// codebook of its size class):
//
//	go test -run XXX -bench VAEDecode -benchtime 3x ./executor/model
func BenchmarkVAEDecode(b *testing.B) {
	c, err := LoadCheckpoint(filepath.Join(modelsDir(), "checkpoints", "regen-gmm.safetensors"), cpu.New())
	if err != nil {
		b.Fatal(err)
	}
	for _, side := range []int{16, 32, 64} {
		x := node.NewTensor(1, 4, side, side)
		copy(x.Data, gauss(2, x.Numel()))
		b.Run(fmt.Sprintf("%dx%d", side, side), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.VAE().Decode(context.Background(), x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
