package compare

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/vitali-fedulov/images4"
)

// Icon is an images4 icon that serialises compactly: the image size and
// the uint16 values as one hex string (big-endian), instead of 363 numbers.
type Icon struct {
	images4.IconT
}

type iconJSON struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Pixels string `json:"pixels"`
}

// MarshalJSON implements json.Marshaler.
func (i Icon) MarshalJSON() ([]byte, error) {
	b := make([]byte, 2*len(i.Pixels))
	for k, v := range i.Pixels {
		binary.BigEndian.PutUint16(b[2*k:], v)
	}
	return json.Marshal(iconJSON{Width: i.ImgSize.X, Height: i.ImgSize.Y, Pixels: hex.EncodeToString(b)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (i *Icon) UnmarshalJSON(data []byte) error {
	var j iconJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode icon: %w", err)
	}
	b, err := hex.DecodeString(j.Pixels)
	if err != nil || len(b)%2 != 0 {
		return fmt.Errorf("decode icon pixels: not an even-length hex string")
	}
	px := make([]uint16, len(b)/2)
	for k := range px {
		px[k] = binary.BigEndian.Uint16(b[2*k:])
	}
	i.IconT = images4.IconT{Pixels: px, ImgSize: image.Point{X: j.Width, Y: j.Height}}
	return nil
}

// iconRange returns the range (max − min) of each channel (Y, Cb, Cr) of
// an icon, in 8-bit levels (images4 stores levels × 255).
func iconRange(ic images4.IconT) [3]float64 {
	n := len(ic.Pixels) / 3
	var out [3]float64
	for c := range 3 {
		if n == 0 {
			break
		}
		ch := ic.Pixels[c*n : (c+1)*n]
		lo, hi := slices.Min(ch), slices.Max(ch)
		out[c] = float64(hi-lo) / 255
	}
	return out
}

// round2 rounds to two decimals, for notes.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Sizes of images4's icon pipeline (v1.3.1): the image is sampled by
// nearest neighbour to iconSample² points, averaged in iconCell² blocks
// to a iconLarge² icon, then 3×3 box-filtered at stride 2 to IconSize².
const (
	iconLarge  = 2*images4.IconSize + 1 // 23
	iconCell   = 12
	iconSample = iconLarge * iconCell // 276
)

// icons computes images4.IconNN(px) (raw) and images4.Icon(px)
// (stretched) in one sampling of px, with the same arithmetic, so the
// values are the same bit for bit (TestIconsMatchImages4). images4 reads
// each of its 276² samples through image.Image.At and writes it into a
// resized copy through Set, boxing every colour into an interface (an
// allocation each, twice per icon), and Icon samples the image again for
// the IconNN it stretches: this reads px once and allocates two slices.
func icons(px *image.NRGBA) (stretched, raw images4.IconT) {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	xScale := float64(w) / float64(iconSample)
	yScale := float64(h) / float64(iconSample)
	base := px.PixOffset(px.Rect.Min.X, px.Rect.Min.Y)
	var sx [iconSample]int
	for x := range sx {
		sx[x] = base + 4*int(float64(x)*xScale)
	}
	// Sums of the sampled 8-bit colours (premultiplied by alpha, as
	// color.NRGBA.RGBA gives them) per large-icon pixel.
	var sums [iconLarge * iconLarge][3]uint32
	for y := range iconSample {
		row := px.Pix[int(float64(y)*yScale)*px.Stride:]
		cell := sums[(y/iconCell)*iconLarge : (y/iconCell+1)*iconLarge]
		for x, o := range sx {
			p := row[o : o+4 : o+4]
			c := &cell[x/iconCell]
			if a := uint32(p[3]); a == 0xff {
				c[0] += uint32(p[0])
				c[1] += uint32(p[1])
				c[2] += uint32(p[2])
			} else {
				c[0] += premul8(p[0], a)
				c[1] += premul8(p[1], a)
				c[2] += premul8(p[2], a)
			}
		}
	}
	// The large icon as images4 stores it: uint16(mean·255), then read
	// back as value/255.
	const invSamples = 1 / float64(iconCell*iconCell)
	const inv255 = 1 / float64(255)
	var large [3][iconLarge * iconLarge]float64
	for i, s := range sums {
		for ch := range 3 {
			large[ch][i] = float64(uint16(float64(s[ch])*invSamples*255)) * inv255
		}
	}
	const oneNinth = 1 / float64(9)
	n := images4.IconSize * images4.IconSize
	raw = images4.IconT{Pixels: make([]uint16, 3*n), ImgSize: image.Point{X: w, Y: h}}
	for x := 1; x < iconLarge-1; x += 2 {
		for y := 1; y < iconLarge-1; y += 2 {
			var s1, s2, s3 float64
			for dx := -1; dx <= 1; dx++ {
				for dy := -1; dy <= 1; dy++ {
					i := (y+dy)*iconLarge + x + dx
					s1, s2, s3 = s1+large[0][i], s2+large[1][i], s3+large[2][i]
				}
			}
			r, g, b := s1*oneNinth, s2*oneNinth, s3*oneNinth
			// Every product rounded on its own (float64(...)), as images4
			// computes it on amd64, so that no architecture fuses them
			// (hack/fma-check.sh) and the icon's bits are the same everywhere.
			yc := float64(0.299000*r) + float64(0.587000*g) + float64(0.114000*b)
			cb := 128 - float64(0.168736*r) - float64(0.331264*g) + float64(0.500000*b)
			cr := 128 + float64(0.500000*r) - float64(0.418688*g) - float64(0.081312*b)
			k := (y/2)*images4.IconSize + x/2
			raw.Pixels[k] = uint16(yc * 255)
			raw.Pixels[n+k] = uint16(cb * 255)
			raw.Pixels[2*n+k] = uint16(cr * 255)
		}
	}
	stretched = images4.IconT{Pixels: slices.Clone(raw.Pixels), ImgSize: raw.ImgSize}
	for ch := range 3 {
		c := stretched.Pixels[ch*n : (ch+1)*n]
		lo, hi := slices.Min(c), slices.Max(c)
		if lo == hi {
			continue
		}
		scale := 255 * 255 / (float64(hi) - float64(lo))
		for i, v := range c {
			c[i] = uint16((float64(v) - float64(lo)) * scale)
		}
	}
	return stretched, raw
}

// premul8 is the high byte of color.NRGBA.RGBA's 16-bit premultiplied
// value of level v at alpha a.
func premul8(v uint8, a uint32) uint32 {
	c := uint32(v)
	c |= c << 8
	c *= a
	c /= 0xff
	return c >> 8
}
