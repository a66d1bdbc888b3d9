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
