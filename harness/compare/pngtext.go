package compare

import (
	"errors"
	"fmt"

	"github.com/regen-dev/regen/internal/pngtext"
)

// pngText returns the textual metadata of a PNG file (tEXt, zTXt and iTXt
// chunks, read by internal/pngtext), keyword → text; the first chunk with a
// keyword wins. Metadata is advisory here: a text chunk that does not decode
// is skipped; only a file that is not a PNG or is broken (truncated, a bad
// CRC) is an error.
func pngText(data []byte) (map[string]string, error) {
	chunks, err := pngtext.ReadBytes(data)
	if err != nil && !errors.Is(err, pngtext.ErrBadText) {
		return nil, fmt.Errorf("read png metadata: %w", err)
	}
	out := map[string]string{}
	for _, c := range chunks {
		if _, dup := out[c.Keyword]; !dup {
			out[c.Keyword] = c.Text
		}
	}
	return out, nil
}
