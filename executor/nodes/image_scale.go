package nodes

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// imgScaleNode is ImageScale ("Upscale Image").
type imgScaleNode struct{}

var _ node.Node = imgScaleNode{}

func (imgScaleNode) Spec() node.Spec {
	size := func(name string) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: int64(512),
			Min: node.F(0), Max: node.F(node.MaxResolution), Step: node.F(1)}
	}
	return node.Spec{
		Name:        "ImageScale",
		DisplayName: "Upscale Image",
		Category:    "image/upscaling",
		Module:      "nodes",
		Inputs: []node.Input{
			{Name: "image", Type: node.TypeImage},
			{Name: "upscale_method", Combo: imgUpscaleMethods},
			size("width"),
			size("height"),
			{Name: "crop", Combo: imgCropMethods},
		},
		Outputs: []node.Output{{Type: node.TypeImage}},
	}
}

func (imgScaleNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	img, err := node.As[*node.Image](in, "image")
	if err != nil {
		return node.Result{}, err
	}
	method, err := node.String(in, "upscale_method")
	if err != nil {
		return node.Result{}, err
	}
	crop, err := node.String(in, "crop")
	if err != nil {
		return node.Result{}, err
	}
	w64, err := node.Int(in, "width")
	if err != nil {
		return node.Result{}, err
	}
	h64, err := node.Int(in, "height")
	if err != nil {
		return node.Result{}, err
	}
	if w64 < 0 || h64 < 0 || w64 > node.MaxResolution || h64 > node.MaxResolution {
		return node.Result{}, fmt.Errorf("scale image: size %dx%d outside 0..%d", w64, h64, node.MaxResolution)
	}
	width, height, pass := targetSize(img.W, img.H, int(w64), int(h64), 1)
	if pass {
		return node.Result{Outputs: []any{img}}, nil
	}
	out, err := CommonUpscale(img, width, height, method, crop)
	if err != nil {
		return node.Result{}, fmt.Errorf("scale image: %w", err)
	}
	return node.Result{Outputs: []any{out}}, nil
}

// targetSize applies the zero rules of ImageScale (least = 1) and
// LatentUpscale (least = 64) to a w×h input asked for width×height: both 0
// passes the input through, one 0 keeps the aspect ratio (Python round),
// and every side is at least least.
func targetSize(w, h, width, height, least int) (int, int, bool) {
	switch {
	case width == 0 && height == 0:
		return w, h, true
	case width == 0:
		height = max(least, height)
		width = int(math.RoundToEven(float64(w) * float64(height) / float64(h)))
	case height == 0:
		width = max(least, width)
		height = int(math.RoundToEven(float64(h) * float64(width) / float64(w)))
	}
	return max(least, width), max(least, height), false
}
