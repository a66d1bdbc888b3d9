//go:build unix

package model_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
	"github.com/regen-dev/regen/internal/cputime"
)

// BenchmarkTxt2Img512 times what KSampler and VAEDecode do for a 512×512
// txt2img (a 64×64 latent, euler/normal, 20 steps, cfg 7, "a red circle on
// sky"), checkpoint load included, for the committed checkpoints and, when
// REGEN_BASELINE_MODELS names another models folder (for instance the
// previous commit's, made by `go run ./fixtures/gen --out DIR` there), for
// those too in the same run, so the two can be compared on one machine
// under one load (wall time and CPU seconds per run are reported):
//
//	REGEN_BASELINE_MODELS=/tmp/old go test -run '^$' -bench Txt2Img512 -benchtime 1x ./executor/model
func BenchmarkTxt2Img512(b *testing.B) {
	dirs := []struct{ name, dir string }{{"current", filepath.Join("..", "..", "fixtures", "models")}}
	if d := os.Getenv("REGEN_BASELINE_MODELS"); d != "" {
		dirs = append([]struct{ name, dir string }{{"baseline", d}}, dirs...)
	}
	for _, mode := range []string{"gmm", "els"} {
		for _, d := range dirs {
			b.Run(mode+"/"+d.name, func(b *testing.B) {
				c0 := cputime.Process()
				for range b.N {
					txt2img512(b, filepath.Join(d.dir, "checkpoints", "regen-"+mode+".safetensors"))
				}
				// CPU seconds (user + system) of the process per run: on a
				// shared machine they vary far less than wall time.
				b.ReportMetric((cputime.Process()-c0).Seconds()/float64(b.N), "cpu-s/op")
			})
		}
	}
}

func txt2img512(b *testing.B, path string) {
	ctx := context.Background()
	c, err := model.LoadCheckpoint(path, cpu.New())
	if err != nil {
		b.Fatal(err)
	}
	pos, err := c.CLIP().Encode("a red circle on sky")
	if err != nil {
		b.Fatal(err)
	}
	neg, err := c.CLIP().Encode("")
	if err != nil {
		b.Fatal(err)
	}
	s, err := sampling.NewSampler("euler")
	if err != nil {
		b.Fatal(err)
	}
	sigmas, err := sampling.Schedule("normal", c.Model().SigmaTable(), 20)
	if err != nil {
		b.Fatal(err)
	}
	lat := node.NewTensor(1, 4, 64, 64)
	noise, err := sampling.PrepareNoise(node.Latent{Samples: lat}, 1)
	if err != nil {
		b.Fatal(err)
	}
	g := &sampling.Guider{Model: c.Model(), Positive: node.Conditioning{pos}, Negative: node.Conditioning{neg}, CFG: 7}
	out, err := g.Sample(ctx, s, noise, lat, sigmas, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.VAE().Decode(ctx, out); err != nil {
		b.Fatal(err)
	}
}
