// Command comparepair writes the image pairs hack/comparebench.sh times
// regen compare and odiff on: a golden PNG copied as golden.png, the same
// pixels re-encoded as identical.png, and noisy.png, the golden with a
// deterministic ±1 LSB change in about a quarter of its channel values
// (the float jitter of another GPU: every tier runs, the verdict is pass~).
//
// Usage: go run ./hack/comparepair -golden GOLDEN.png -out DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"

	"github.com/regen-dev/regen/internal/lsbnoise"
)

func main() {
	src := flag.String("golden", "golden/cpu/api-mixed-sd15-sdxl-refine/default.seed-1.26-0.png", "the golden `PNG`")
	out := flag.String("out", "out/comparebench", "the `directory` to write the pair into")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "comparepair:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read golden: %w", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode golden: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("make output directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "golden.png"), data, 0o644); err != nil {
		return fmt.Errorf("write golden: %w", err)
	}
	b := img.Bounds()
	px := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(px, px.Rect, img, b.Min, draw.Src)
	if err := writePNG(filepath.Join(out, "identical.png"), px); err != nil {
		return err
	}
	lsbnoise.Apply(px.Pix)
	return writePNG(filepath.Join(out, "noisy.png"), px)
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
