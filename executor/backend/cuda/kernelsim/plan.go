package kernelsim

// Tile sizes of kernels/attention.cu (its #defines; a test checks that they
// agree).
const (
	BQ      = 16  // query rows per block
	BK      = 64  // keys per tile
	BDV     = 32  // output columns per block
	DC      = 32  // dimensions per shared-memory chunk
	Threads = 128 // threads per block
)

// targetBlocks is the number of blocks a launch aims for before it splits
// the keys: two per SM of an H100/H200 (132 SMs). It is a constant, not the
// device's SM count, so that the split, and with it the bits, depend on the
// call's shape alone and not on the GPU model.
const targetBlocks = 264

// minTilesPerSplit keeps each split long enough (≥ 256 keys) that the
// combine's extra work stays small.
const minTilesPerSplit = 4

// maxGrid is CUDA's limit on gridDim.y and gridDim.z.
const maxGrid = 65535

// launchFlops bounds the work of one launch (2·rows·NK·(D+DV) flops), so
// that a cancelled context is noticed within a few milliseconds on a GPU.
const launchFlops = 4e9

// Plan is the launch configuration of attn_f32/attn_tf32 for nq query rows.
type Plan struct {
	GX, GY, GZ   int // grid: query blocks, column blocks, key splits
	KeysPerSplit int // multiple of BK; split z covers keys [z·KeysPerSplit, …)
}

// NewPlan returns the plan for nq ≥ 1 rows, nk ≥ 1 keys and dv ≥ 1 output
// columns. Every split is non-empty.
func NewPlan(nq, nk, dv int) Plan {
	gx, gy := ceilDiv(nq, BQ), ceilDiv(dv, BDV)
	tiles := ceilDiv(nk, BK)
	z := min(ceilDiv(targetBlocks, gx*gy), ceilDiv(tiles, minTilesPerSplit), maxGrid)
	z = max(z, 1)
	per := ceilDiv(tiles, z)
	return Plan{GX: gx, GY: gy, GZ: ceilDiv(tiles, per), KeysPerSplit: per * BK}
}

// PartialLen is the float32 workspace the plan needs: per split and row,
// the row sum and dv accumulators. MaxLen is the float64 one: per split and
// row, the row max.
func (p Plan) PartialLen(nq, dv int) int { return p.GZ * nq * (1 + dv) }

// MaxLen is the length of the row-max workspace, in float64.
func (p Plan) MaxLen(nq int) int { return p.GZ * nq }

// RowsPerLaunch is how many query rows one launch takes (a multiple of BQ,
// or all nq), so that each launch stays under launchFlops.
func RowsPerLaunch(nq, nk, d, dv int) int {
	perRow := 2 * float64(nk) * float64(d+dv)
	blocks := max(1, int(launchFlops/(perRow*BQ)))
	return min(nq, blocks*BQ)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
