package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

// sameBits reports the first index where got and want differ bitwise, or -1.
func sameBits(got, want []float32) int {
	if len(got) != len(want) {
		return 0
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

// TestELSParallelBits checks that the concurrent els path gives the same
// bits as the sequential reference (predictELSSeq, the code before tiles ran
// concurrently) for batch 1 and 2, square and non-square latents whose
// sides are and are not multiples of the tile, at noise levels covering
// every patch size, through Predict at GOMAXPROCS 1 and 2 and directly on
// 1, 2, 3 and 7 workers.
func TestELSParallelBits(t *testing.T) {
	c := loadCkpt(t, "regen-els.safetensors")
	m := c.Model()
	cond, err := c.CLIP().Encode("a red circle on sky")
	if err != nil {
		t.Fatal(err)
	}
	bias, err := m.Prior(cond)
	if err != nil {
		t.Fatal(err)
	}
	type shape struct{ B, h, w int }
	shapes := []shape{{1, 32, 32}, {2, 24, 40}}
	if raceEnabled { // the race detector slows the kernel ~20×
		shapes = []shape{{1, 8, 8}, {2, 6, 10}}
	}
	// One σ per patch level (its lower bound and one above it, where
	// that is still the same level), so every patch size runs.
	var sigmas []float64
	sizes := map[int]bool{}
	for i, p := range m.cfg.Patches {
		if p.Size == 0 {
			continue
		}
		sizes[p.Size] = true
		sigmas = append(sigmas, p.MinSigma)
		if i > 0 && m.cfg.Patches[i-1].MinSigma > p.MinSigma*1.5+0.01 {
			sigmas = append(sigmas, p.MinSigma*1.5+0.01)
		}
	}
	if len(sizes) < 3 {
		t.Fatalf("patch schedule %v has %d els patch sizes, the test wants 3", m.cfg.Patches, len(sizes))
	}
	ctx := context.Background()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, sh := range shapes {
		for si, sigma := range sigmas {
			name := fmt.Sprintf("B%d-%dx%d-sigma%g-P%d", sh.B, sh.h, sh.w, sigma, m.patchSize(sigma))
			t.Run(name, func(t *testing.T) {
				x := node.NewTensor(sh.B, m.LatentChannels(), sh.h, sh.w)
				for i, v := range gauss(uint64(11+si), x.Numel()) {
					x.Data[i] = float32(sigma) * v
				}
				want, err := m.predictELSSeq(ctx, x, sh.B, sh.h, sh.w, sigma, bias)
				if err != nil {
					t.Fatal(err)
				}
				for _, procs := range []int{1, 2} {
					runtime.GOMAXPROCS(procs)
					got, err := m.Predict(ctx, x, sigma, cond)
					if err != nil {
						t.Fatal(err)
					}
					if i := sameBits(got.Data, want.Data); i >= 0 {
						t.Fatalf("GOMAXPROCS=%d: Predict differs from the sequential reference at %d: %v, want %v",
							procs, i, got.Data[i], want.Data[i])
					}
				}
				for _, workers := range []int{1, 2, 3, 7} {
					got, err := m.predictELSWorkers(ctx, x, sh.B, sh.h, sh.w, sigma, bias, workers)
					if err != nil {
						t.Fatal(err)
					}
					if i := sameBits(got.Data, want.Data); i >= 0 {
						t.Fatalf("%d workers: differs from the sequential reference at %d: %v, want %v",
							workers, i, got.Data[i], want.Data[i])
					}
				}
			})
		}
	}
}

// TestELSParallelCancel checks that a cancelled context stops the workers
// and is reported, whatever the worker count.
func TestELSParallelCancel(t *testing.T) {
	c := loadCkpt(t, "regen-els.safetensors")
	m := c.Model()
	bias, err := m.Prior(node.Cond{})
	if err != nil {
		t.Fatal(err)
	}
	x := node.NewTensor(2, m.LatentChannels(), 12, 12)
	copy(x.Data, gauss(5, x.Numel()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("workers-%d", workers), func(t *testing.T) {
			out, err := m.predictELSWorkers(ctx, x, 2, 12, 12, 1, bias, workers)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, %v; want an error wrapping context.Canceled", out, err)
			}
		})
	}
}
