package model

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/backend/cpu/gemmbench"
	"github.com/regen-dev/regen/executor/node"
)

// attnShape is one attention call's shape.
type attnShape struct{ nq, nk, d, dv int }

// countingAttender wraps a backend and records every Attention call: its
// shape (with multiplicity), FLOPs by the 2·NQ·NK·(D+DV) convention, and
// the wall time spent inside the call.
type countingAttender struct {
	be backend.Attender

	mu    sync.Mutex
	calls map[attnShape]int
	flops float64
	spent time.Duration
}

func newCounting(be backend.Attender) *countingAttender {
	return &countingAttender{be: be, calls: map[attnShape]int{}}
}

func (c *countingAttender) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	t0 := time.Now()
	err := c.be.Attention(ctx, a)
	d := time.Since(t0)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[attnShape{a.NQ, a.NK, a.D, a.DV}]++
	c.flops += attnFLOPs(a.NQ, a.NK, a.D, a.DV)
	c.spent += d
	return err
}

// reset forgets everything recorded so far.
func (c *countingAttender) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.calls)
	c.flops, c.spent = 0, 0
}

// snapshot returns the FLOPs and attention time recorded so far, and the
// calls as GEMM shapes (Q·Kᵀ then S·V per call shape), in a fixed order.
func (c *countingAttender) snapshot() (float64, time.Duration, []gemmbench.Shape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]attnShape, 0, len(c.calls))
	for k := range c.calls {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y attnShape) int {
		return slices.Compare([]int{x.nq, x.nk, x.d, x.dv}, []int{y.nq, y.nk, y.d, y.dv})
	})
	var shapes []gemmbench.Shape
	for _, k := range keys {
		shapes = append(shapes, gemmbench.AttentionShapes(k.nq, k.nk, k.d, k.dv, c.calls[k])...)
	}
	return c.flops, c.spent, shapes
}

func attnFLOPs(nq, nk, d, dv int) float64 {
	return 2 * float64(nq) * float64(nk) * float64(d+dv)
}

// predictFLOPs is the attention FLOP count of one Predict of a B×C×h×w
// latent at sigma, derived from the checkpoint config alone: the global
// posterior is one call of B queries over the K exemplars with D = DV =
// C·h·w; els is one call per Tile×Tile query tile over the K exemplars'
// patches at every position within Window of the tile, D = P²·C, DV = C.
func predictFLOPs(m *Model, B, h, w int, sigma float64) float64 {
	cfg, K := m.cfg, m.set.K
	C := cfg.LatentChannels
	P := 0
	if cfg.Mode == ModeELS {
		P = m.patchSize(sigma)
	}
	if P == 0 {
		return attnFLOPs(B, K, C*h*w, C*h*w)
	}
	var f float64
	for ty0 := 0; ty0 < h; ty0 += cfg.Tile {
		ty1 := min(ty0+cfg.Tile, h)
		for tx0 := 0; tx0 < w; tx0 += cfg.Tile {
			tx1 := min(tx0+cfg.Tile, w)
			ny := min(h, ty1+cfg.Window) - max(0, ty0-cfg.Window)
			nx := min(w, tx1+cfg.Window) - max(0, tx0-cfg.Window)
			f += attnFLOPs((ty1-ty0)*(tx1-tx0), K*ny*nx, P*P*C, C)
		}
	}
	return float64(B) * f
}

// BenchmarkDenoiserFLOPs measures, per mode and latent side, the denoiser's
// attention throughput (one Predict at σ = 1: the global posterior for gmm,
// 7×7 patches for els) and, in the same run, the GEMM baseline
// (gemmbench.NT) over the very same call shapes and FLOP count:
//
//	go test -run '^$' -bench DenoiserFLOPs -benchtime 3x ./executor/model
//
// predict reports GFLOP/s (attention FLOPs over the whole Predict's wall
// time, everything else the model does — patch extraction, prior, mixing —
// paid from the same budget), GFLOP/cpu-s, MFLOP/op and attn-share (the
// fraction of Predict's wall time spent inside Attention);
// gemm-baseline reports its GFLOP/s and x-gemm, the denoiser's rate as a
// fraction of the baseline's. The counted FLOPs must equal the count
// derived from the checkpoint config, or the benchmark fails.
func BenchmarkDenoiserFLOPs(b *testing.B) {
	const sigma = 1.0
	for _, file := range []string{"regen-gmm.safetensors", "regen-els.safetensors"} {
		cnt := newCounting(cpu.New())
		c, err := LoadCheckpoint(filepath.Join(modelsDir(), "checkpoints", file), cnt)
		if err != nil {
			b.Fatal(err)
		}
		cond, err := c.CLIP().Encode("a red circle on sky")
		if err != nil {
			b.Fatal(err)
		}
		m := c.Model()
		for _, side := range []int{32, 64} {
			b.Run(fmt.Sprintf("%s-%d", m.Mode(), side), func(b *testing.B) {
				x := node.NewTensor(1, m.LatentChannels(), side, side)
				for i, v := range gauss(3, x.Numel()) {
					x.Data[i] = float32(sigma) * v
				}
				ctx := context.Background()
				// Warm-up, untimed: builds the exemplars at this size and
				// records the call shapes for the baseline.
				cnt.reset()
				if _, err := m.Predict(ctx, x, sigma, cond); err != nil {
					b.Fatal(err)
				}
				perOp, _, shapes := cnt.snapshot()
				if want := predictFLOPs(m, 1, side, side, sigma); perOp != want {
					b.Fatalf("counted %v attention FLOPs per Predict, config says %v", perOp, want)
				}
				var rate float64
				b.Run("predict", func(b *testing.B) {
					cnt.reset()
					c0 := gemmbench.CPUTime()
					for b.Loop() {
						if _, err := m.Predict(ctx, x, sigma, cond); err != nil {
							b.Fatal(err)
						}
					}
					cpuSpent := gemmbench.CPUTime() - c0
					flops, inAttn, _ := cnt.snapshot()
					if flops != perOp*float64(b.N) {
						b.Fatalf("counted %v FLOPs over %d Predicts, want %v each", flops, b.N, perOp)
					}
					rate = gemmbench.GFLOPS(flops, b.Elapsed())
					b.ReportMetric(rate, "GFLOP/s")
					if cpuSpent > 0 {
						b.ReportMetric(gemmbench.GFLOPS(flops, cpuSpent), "GFLOP/cpu-s")
					}
					b.ReportMetric(perOp/1e6, "MFLOP/op")
					b.ReportMetric(inAttn.Seconds()/b.Elapsed().Seconds(), "attn-share")
				})
				b.Run("gemm-baseline", func(b *testing.B) {
					plan, err := gemmbench.NewPlan(shapes...)
					if err != nil {
						b.Fatal(err)
					}
					if plan.FLOPs() != perOp {
						b.Fatalf("baseline has %v FLOPs, Predict %v", plan.FLOPs(), perOp)
					}
					b.ResetTimer()
					c0 := gemmbench.CPUTime()
					for b.Loop() {
						plan.Run()
					}
					cpuSpent := gemmbench.CPUTime() - c0
					g := gemmbench.GFLOPS(plan.FLOPs()*float64(b.N), b.Elapsed())
					b.ReportMetric(g, "GFLOP/s")
					if cpuSpent > 0 {
						b.ReportMetric(gemmbench.GFLOPS(plan.FLOPs()*float64(b.N), cpuSpent), "GFLOP/cpu-s")
					}
					if rate > 0 && g > 0 { // left out when predict was filtered out
						b.ReportMetric(rate/g, "x-gemm")
					}
				})
			})
		}
	}
}
