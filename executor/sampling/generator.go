package sampling

// mt19937 constants (Matsumoto & Nishimura 1998).
const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// Generator is PyTorch's CPU generator (CPUGeneratorImpl): an mt19937
// engine plus the cached second value of the scalar Box–Muller path.
//
// Seeding follows at::mt19937's constructor as called by
// CPUGeneratorImpl::set_current_seed (aten/src/ATen/core/MT19937RNGEngine.h):
// the 64-bit seed is stored, but only seed & 0xffffffff initialises the
// state (state[0] = seed & 0xffffffff; state[j] = 1812433253·(state[j−1] ^
// state[j−1]>>30) + j in uint32 arithmetic). Hence manual_seed(2^32+42)
// draws the same numbers as manual_seed(42). manual_seed also clears the
// cached normal values.
type Generator struct {
	state [mtN]uint32
	next  int
	seed  uint64

	// Cached second Box–Muller value of the scalar (numel < 16) path
	// (CPUGeneratorImpl::next_double_normal_sample_).
	haveNormal bool
	nextNormal float64
}

// NewGenerator returns a generator seeded like torch.manual_seed(seed).
func NewGenerator(seed uint64) *Generator {
	g := &Generator{}
	g.Seed(seed)
	return g
}

// Seed reseeds the generator like torch.manual_seed(seed).
func (g *Generator) Seed(seed uint64) {
	g.seed = seed
	g.haveNormal = false
	g.state[0] = uint32(seed)
	for j := 1; j < mtN; j++ {
		p := g.state[j-1]
		g.state[j] = 1812433253*(p^(p>>30)) + uint32(j)
	}
	g.next = mtN
}

// InitialSeed returns the seed given to Seed (torch.initial_seed()).
func (g *Generator) InitialSeed() uint64 { return g.seed }

func (g *Generator) twist() {
	for i := 0; i < mtN; i++ {
		y := (g.state[i] & mtUpperMask) | (g.state[(i+1)%mtN] & mtLowerMask)
		v := g.state[(i+mtM)%mtN] ^ (y >> 1)
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		g.state[i] = v
	}
	g.next = 0
}

// Uint32 returns the next tempered 32-bit output (CPUGeneratorImpl::random).
func (g *Generator) Uint32() uint32 {
	if g.next >= mtN {
		g.twist()
	}
	y := g.state[g.next]
	g.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two outputs joined, first one high (CPUGeneratorImpl::random64).
func (g *Generator) Uint64() uint64 {
	hi := uint64(g.Uint32())
	lo := uint64(g.Uint32())
	return hi<<32 | lo
}

// Float32 returns a uniform value in [0, 1) as at::uniform_real_distribution
// <float>: the low 24 bits of one output times 2^−24.
func (g *Generator) Float32() float32 {
	return float32(g.Uint32()&(1<<24-1)) * (1.0 / (1 << 24))
}

// Float64 returns a uniform value in [0, 1) as at::uniform_real_distribution
// <double>: the low 53 bits of Uint64 times 2^−53.
func (g *Generator) Float64() float64 {
	return float64(g.Uint64()&(1<<53-1)) * (1.0 / (1 << 53))
}
