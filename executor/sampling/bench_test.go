package sampling

import (
	"context"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

func BenchmarkRandn1x4x64x64(b *testing.B) {
	for b.Loop() {
		NewGenerator(42).Randn(1, 4, 64, 64)
	}
}

func BenchmarkBrownianIncrement1x4x64x64(b *testing.B) {
	tree := NewBrownianTree(0.03, 14.6, 4*64*64, 1)
	for b.Loop() {
		tree.Increment(3.1, 2.7)
	}
}

// Sampler overhead per run (20 steps, 1×4×64×64) with a trivial model.
func BenchmarkSamplers20Steps(b *testing.B) {
	for _, name := range []string{"euler", "dpmpp_2m", "euler_ancestral", "dpmpp_2m_sde", "uni_pc"} {
		b.Run(name, func(b *testing.B) {
			m := gaussModel(0, 0.5)
			s, _ := NewSampler(name)
			sig, _ := KSamplerSigmas(DefaultTable(), "karras", name, 20, 1)
			lat := node.NewTensor(1, 4, 64, 64)
			noise, _ := PrepareNoise(node.Latent{Samples: lat}, 1)
			g := &Guider{Model: m, Positive: node.Conditioning{{}}, CFG: 1}
			for b.Loop() {
				if _, err := g.Sample(context.Background(), s, noise, lat, sig, &Options{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
