//go:build cuda

package cuda

import (
	"context"
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cuda/kernelsim"
)

// Device buffers, grown as needed and kept between calls (plain MemAlloc,
// never managed memory).
const (
	bufQ = iota
	bufK
	bufBias
	bufV
	bufMax  // float64 row maxima of the splits
	bufPart // float32 row sums and accumulators of the splits
	bufOut
	numBufs
)

type devBuf struct {
	ptr  cu.DevicePtr
	size int64
}

// ensure makes the buffer at least n bytes. Contents are not kept.
func (d *devBuf) ensure(n int64) error {
	if n <= d.size {
		return nil
	}
	if err := d.free(); err != nil {
		return err
	}
	n = max(n, 256)
	p, err := cu.MemAlloc(n)
	if err != nil {
		return fmt.Errorf("allocate %d bytes: %w", n, err)
	}
	d.ptr, d.size = p, n
	return nil
}

func (d *devBuf) free() error {
	if d.size == 0 {
		return nil
	}
	err := cu.MemFree(d.ptr)
	d.ptr, d.size = 0, 0
	if err != nil {
		return fmt.Errorf("free device memory: %w", err)
	}
	return nil
}

// upload copies s into buffer i (growing it).
func (b *Backend) upload(i int, s []float32) error {
	n := int64(len(s)) * 4
	if err := b.bufs[i].ensure(n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if err := cu.MemcpyHtoD(b.bufs[i].ptr, unsafe.Pointer(&s[0]), n); err != nil {
		return fmt.Errorf("copy to device: %w", err)
	}
	return nil
}

// Attention computes a.Out (see backend.AttentionArgs) on the GPU. Q, K, V
// and Bias are copied to the device on every call (key banks are not cached:
// the model refills the same slices with new contents, so a cache keyed by
// the slice would be wrong, and one keyed by a hash costs as much as the
// copy). KNorm and KNorm64 are validated but not used: the fp32 kernel computes
// distances directly and the tf32 one its own centred norms. Large calls are
// launched in chunks of rows and ctx is checked between them.
func (b *Backend) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if a.NQ == 0 || a.DV == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.do(func() error {
		if err := b.uploadArgs(a); err != nil {
			return err
		}
		if err := b.compute(ctx, a); err != nil {
			return err
		}
		return b.download(a)
	})
	if err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	return nil
}

func (b *Backend) uploadArgs(a *backend.AttentionArgs) error {
	for _, u := range []struct {
		buf int
		s   []float32
	}{
		{bufQ, a.Q[:a.NQ*a.D]},
		{bufK, a.K[:a.NK*a.D]},
		{bufV, a.V[:a.NK*a.DV]},
	} {
		if err := b.upload(u.buf, u.s); err != nil {
			return err
		}
	}
	if a.Bias != nil {
		return b.upload(bufBias, a.Bias[:a.NK])
	}
	return nil
}

func (b *Backend) download(a *backend.AttentionArgs) error {
	n := int64(a.NQ*a.DV) * 4
	if err := cu.MemcpyDtoH(unsafe.Pointer(&a.Out[0]), b.bufs[bufOut].ptr, n); err != nil {
		return fmt.Errorf("copy from device: %w", err)
	}
	return nil
}

// compute runs the kernels on the uploaded arguments, writing bufOut. Every
// kernel argument is an 8-byte holder: cu copies each parameter as 8 bytes,
// and the kernels declare pointers, long long and double only.
func (b *Backend) compute(ctx context.Context, a *backend.AttentionArgs) error {
	rows := kernelsim.RowsPerLaunch(a.NQ, a.NK, a.D, a.DV)
	if err := b.bufs[bufOut].ensure(int64(a.NQ*a.DV) * 4); err != nil {
		return err
	}
	var bias uint64
	if a.Bias != nil {
		bias = uint64(b.bufs[bufBias].ptr)
	}
	k, v := uint64(b.bufs[bufK].ptr), uint64(b.bufs[bufV].ptr)
	nk, d, dv := int64(a.NK), int64(a.D), int64(a.DV)
	inv2v := 1 / (2 * float64(a.Variance))
	for r0 := 0; r0 < a.NQ; r0 += rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(rows, a.NQ-r0)
		pl := kernelsim.NewPlan(n, a.NK, a.DV)
		// The split workspace, grown per chunk (a short last chunk can have
		// more splits); the previous chunk has finished with it.
		if err := b.bufs[bufMax].ensure(int64(pl.MaxLen(n)) * 8); err != nil {
			return err
		}
		if err := b.bufs[bufPart].ensure(int64(pl.PartialLen(n, a.DV)) * 4); err != nil {
			return err
		}
		pmax, part := uint64(b.bufs[bufMax].ptr), uint64(b.bufs[bufPart].ptr)
		q := uint64(b.bufs[bufQ].ptr) + uint64(r0*a.D*4)
		out := uint64(b.bufs[bufOut].ptr) + uint64(r0*a.DV*4)
		nq, kps := int64(n), int64(pl.KeysPerSplit)
		args := []unsafe.Pointer{
			unsafe.Pointer(&q), unsafe.Pointer(&k), unsafe.Pointer(&bias), unsafe.Pointer(&v),
			unsafe.Pointer(&pmax), unsafe.Pointer(&part),
			unsafe.Pointer(&nq), unsafe.Pointer(&nk), unsafe.Pointer(&d), unsafe.Pointer(&dv),
			unsafe.Pointer(&inv2v), unsafe.Pointer(&kps),
		}
		if err := b.attn.Launch(pl.GX, pl.GY, pl.GZ, kernelsim.Threads, 1, 1, 0, cu.NoStream, args); err != nil {
			return fmt.Errorf("launch attention %+v: %w", pl, err)
		}
		nz := int64(pl.GZ)
		cargs := []unsafe.Pointer{
			unsafe.Pointer(&pmax), unsafe.Pointer(&part), unsafe.Pointer(&out),
			unsafe.Pointer(&nq), unsafe.Pointer(&dv), unsafe.Pointer(&nz),
		}
		const combineThreads = 256
		blocks := (n*a.DV + combineThreads - 1) / combineThreads
		if err := b.combine.Launch(blocks, 1, 1, combineThreads, 1, 1, 0, cu.NoStream, cargs); err != nil {
			return fmt.Errorf("launch combine: %w", err)
		}
		if err := cu.Synchronize(); err != nil {
			return fmt.Errorf("attention kernels: %w", err)
		}
	}
	return nil
}
