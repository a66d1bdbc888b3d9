package compare

import (
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"math/bits"
	"slices"
)

const (
	hashSide  = 64 // luminance thumbnail side
	hashBlock = 16 // low-frequency block side: 16×16 = 256 bits
	// HashBits is the length of the DCT perceptual hash.
	HashBits = hashBlock * hashBlock
)

// dctTable[u][x] = cos((2x+1)uπ / 2N), the DCT-II basis for N = hashSide,
// only the first hashBlock frequencies.
var dctTable = func() (t [hashBlock][hashSide]float64) {
	for u := range hashBlock {
		for x := range hashSide {
			t[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * hashSide))
		}
	}
	return t
}()

// lumaThumb box-averages the Rec. 601 luma of img (0..255) into a 64×64
// grid; each output pixel averages the source pixels whose index maps to it.
func lumaThumb(img *image.NRGBA) []float64 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	sum := make([]float64, hashSide*hashSide)
	cnt := make([]float64, hashSide*hashSide)
	for y := 0; y < h; y++ {
		ty := y * hashSide / h
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			tx := x * hashSide / w
			p := row[4*x : 4*x+3 : 4*x+3]
			sum[ty*hashSide+tx] += float64(0.299*float64(p[0])) + float64(0.587*float64(p[1])) + float64(0.114*float64(p[2]))
			cnt[ty*hashSide+tx]++
		}
	}
	// Images smaller than 64 px on a side leave holes; fill them from the
	// nearest source pixel so the hash stays defined.
	for ty := range hashSide {
		for tx := range hashSide {
			i := ty*hashSide + tx
			if cnt[i] > 0 {
				sum[i] /= cnt[i]
				continue
			}
			sx, sy := tx*w/hashSide, ty*h/hashSide
			p := img.Pix[sy*img.Stride+4*sx:]
			sum[i] = float64(0.299*float64(p[0])) + float64(0.587*float64(p[1])) + float64(0.114*float64(p[2]))
		}
	}
	return sum
}

// dctHash is a 256-bit perceptual hash: the 64×64 luma thumbnail, its 2-D
// DCT-II, the top-left 16×16 coefficients, each bit set when the
// coefficient is above the median of the 255 non-DC ones (the DC bit is
// compared too; it is almost always 1). Returned as 64 hex digits.
func dctHash(img *image.NRGBA) string {
	return dctHashThumb(lumaThumb(img))
}

// dctHashThumb is dctHash of the 64×64 luma thumbnail (lumaThumb).
func dctHashThumb(thumb []float64) string {
	// Rows first: tmp[y][u] = Σx thumb[y][x]·cos(u,x).
	var tmp [hashSide][hashBlock]float64
	for y := range hashSide {
		row := thumb[y*hashSide : (y+1)*hashSide]
		for u := range hashBlock {
			var s float64
			for x, v := range row {
				s += float64(v * dctTable[u][x])
			}
			tmp[y][u] = s
		}
	}
	coef := make([]float64, HashBits)
	for v := range hashBlock {
		for u := range hashBlock {
			var s float64
			for y := range hashSide {
				s += float64(tmp[y][u] * dctTable[v][y])
			}
			coef[v*hashBlock+u] = s
		}
	}
	ac := slices.Clone(coef[1:])
	slices.Sort(ac)
	median := (ac[len(ac)/2-1] + ac[len(ac)/2]) / 2
	if len(ac)%2 == 1 {
		median = ac[len(ac)/2]
	}
	out := make([]byte, HashBits/8)
	for i, c := range coef {
		if c > median {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return hex.EncodeToString(out)
}

// hammingHex is the number of differing bits between two hex hashes.
func hammingHex(a, b string) (int, error) {
	x, err := hex.DecodeString(a)
	if err != nil {
		return 0, fmt.Errorf("decode hash %q: %w", a, err)
	}
	y, err := hex.DecodeString(b)
	if err != nil {
		return 0, fmt.Errorf("decode hash %q: %w", b, err)
	}
	if len(x) != len(y) {
		return 0, fmt.Errorf("compare hashes: lengths %d and %d differ", len(x), len(y))
	}
	n := 0
	for i := range x {
		n += bits.OnesCount8(x[i] ^ y[i])
	}
	return n, nil
}
