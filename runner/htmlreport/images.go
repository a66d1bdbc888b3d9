package htmlreport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

// imageSource resolves and embeds the images a report shows.
type imageSource struct {
	runDir string
	// goldenBase resolves relative golden paths that do not exist as given
	// (results.json records them relative to where regen ran).
	goldenBase string
	thumb      int
}

// resolve returns the path of a run-relative file (candidates, diffs).
func (s imageSource) runFile(rel string) string {
	if rel == "" {
		return ""
	}
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(s.runDir, rel)
}

// goldenFile returns the golden PNG's path: as recorded when it exists,
// else relative to goldenBase.
func (s imageSource) goldenFile(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if s.goldenBase != "" {
		return filepath.Join(s.goldenBase, p)
	}
	return p
}

// full embeds the PNG at path unchanged; "" when it cannot be read.
func (s imageSource) full(path string) template.URL {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return ""
	}
	return pngURI(b)
}

// thumbnail embeds the PNG at path scaled down to fit s.thumb pixels
// (unchanged when already small); "" when it cannot be read.
func (s imageSource) thumbnail(path string) template.URL {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	t, err := Thumbnail(img, s.thumb)
	if err != nil {
		return ""
	}
	if t == img {
		return pngURI(b)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, t); err != nil {
		return ""
	}
	return pngURI(buf.Bytes())
}

// Thumbnail scales img down (Catmull-Rom) so that its longer side is at
// most size pixels, keeping the aspect ratio; it returns img itself when it
// already fits.
func Thumbnail(img image.Image, size int) (image.Image, error) {
	if size <= 0 {
		return nil, fmt.Errorf("thumbnail: size %d: want > 0", size)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= size && h <= size {
		return img, nil
	}
	tw, th := size, size
	if w >= h {
		th = max(1, h*size/w)
	} else {
		tw = max(1, w*size/h)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst, nil
}

// pngURI returns b, PNG bytes, as a data: URI. The bytes are base64
// encoded, so the URI holds nothing a page could misread.
func pngURI(b []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
}
