package compare

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"

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
