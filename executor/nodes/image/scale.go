package image

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
)

// scaleNode is ImageScale ("Upscale Image").
type scaleNode struct{}

var _ node.Node = scaleNode{}

func (scaleNode) Spec() node.Spec {
	size := func(name string) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: int64(512),
			Min: node.F(0), Max: node.F(node.MaxResolution), Step: node.F(1)}
	}
	return node.Spec{
		Name:               "ImageScale",
		SearchAliases:      []string{"resize", "resize image", "scale image", "image resize", "zoom", "zoom in", "change size"},
		EssentialsCategory: "Image Tools",
		DisplayName:        "Upscale Image",
		Category:           "image/upscaling",
		Module:             "nodes",
		Inputs: []node.Input{
			{Name: "image", Type: node.TypeImage},
			{Name: "upscale_method", Combo: resample.ImageMethods},
			size("width"),
			size("height"),
			{Name: "crop", Combo: resample.CropMethods},
		},
		Outputs: []node.Output{{Type: node.TypeImage}},
	}
}

func (scaleNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	img := r.Image("image")
	method, crop := r.String("upscale_method"), r.String("crop")
	w64, h64 := r.Int("width"), r.Int("height")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if w64 < 0 || h64 < 0 || w64 > node.MaxResolution || h64 > node.MaxResolution {
		return node.Result{}, fmt.Errorf("scale image: size %dx%d outside 0..%d", w64, h64, node.MaxResolution)
	}
	width, height, pass := resample.TargetSize(img.W, img.H, int(w64), int(h64), 1)
	if pass {
		return node.Result{Outputs: []any{img}}, nil
	}
	out, err := resample.Upscale(img, width, height, method, crop)
	if err != nil {
		return node.Result{}, fmt.Errorf("scale image: %w", err)
	}
	return node.Result{Outputs: []any{out}}, nil
}
