package image

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
)

// solidColorNode is SolidColorImage, the custom-node example: a batch of
// images of one colour.
type solidColorNode struct{}

var (
	_ node.Node           = solidColorNode{}
	_ node.InputValidator = solidColorNode{}
)

func (solidColorNode) Spec() node.Spec {
	return node.Spec{
		Name:        "SolidColorImage",
		DisplayName: "Solid Color Image",
		Category:    "image",
		Description: "Makes a batch of images filled with one colour.",
		Module:      "custom_nodes.regen_solid_color",
		Inputs: []node.Input{
			{Name: "width", Type: node.TypeInt, Default: int64(512), Min: node.F(1), Max: node.F(node.MaxResolution), Step: node.F(1)},
			{Name: "height", Type: node.TypeInt, Default: int64(512), Min: node.F(1), Max: node.F(node.MaxResolution), Step: node.F(1)},
			{Name: "batch_size", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(64)},
			{Name: "color", Type: node.TypeString, Default: "#ff0000", Tooltip: "Hex colour, #rgb or #rrggbb."},
		},
		Outputs: []node.Output{{Type: node.TypeImage}},
	}
}

func (solidColorNode) ValidatedInputs() []string { return []string{"color"} }
func (solidColorNode) SkipsTypeCheck() bool      { return false }

func (solidColorNode) ValidateInputs(_ *node.Env, constants map[string]any) error {
	v, ok := constants["color"]
	if !ok {
		return nil // linked: checked at execution
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("color: got %T, want a string like #ff0000", v)
	}
	_, err := parseColor(s)
	return err
}

func (solidColorNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	w, h, n := r.Int("width"), r.Int("height"), r.Int("batch_size")
	s := r.String("color")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if w < 1 || h < 1 || w > node.MaxResolution || h > node.MaxResolution || n < 1 || n > 64 {
		return node.Result{}, fmt.Errorf("solid color image: size %dx%d×%d out of range", w, h, n)
	}
	rgb, err := parseColor(s)
	if err != nil {
		return node.Result{}, err
	}
	img := node.NewImage(int(n), int(h), int(w), 3)
	for i := 0; i < len(img.Pix); i += 3 {
		copy(img.Pix[i:i+3], rgb[:])
	}
	return node.Result{Outputs: []any{img}}, nil
}

// parseColor parses "#rgb" or "#rrggbb" (case-insensitive) to 0..1.
func parseColor(s string) ([3]float32, error) {
	bad := fmt.Errorf("color %q: want a hex colour #rgb or #rrggbb, e.g. #ff0000", s)
	hex, ok := strings.CutPrefix(strings.TrimSpace(s), "#")
	if !ok || (len(hex) != 3 && len(hex) != 6) {
		return [3]float32{}, bad
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var rgb [3]float32
	for i := range 3 {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return [3]float32{}, bad
		}
		rgb[i] = float32(v) / 255
	}
	return rgb, nil
}

// invertNode is ImageInvert: 1 − x.
type invertNode struct{}

var _ node.Node = invertNode{}

func (invertNode) Spec() node.Spec {
	return node.Spec{
		Name:               "ImageInvert",
		SearchAliases:      []string{"reverse colors"},
		EssentialsCategory: "Image Tools",
		DisplayName:        "Invert Image Colors",
		Category:           "image/color",
		Module:             "nodes",
		Inputs:             []node.Input{{Name: "image", Type: node.TypeImage}},
		Outputs:            []node.Output{{Type: node.TypeImage}},
	}
}

func (invertNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	img := r.Image("image")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	out := node.NewImage(img.N, img.H, img.W, img.C)
	for i, v := range img.Pix {
		out.Pix[i] = 1 - v
	}
	return node.Result{Outputs: []any{out}}, nil
}

// batchNode is ImageBatch: image1's samples then image2's, image2 first
// resized to image1's size (bilinear, centre crop) when they differ.
type batchNode struct{}

var _ node.Node = batchNode{}

func (batchNode) Spec() node.Spec {
	return node.Spec{
		Name:          "ImageBatch",
		SearchAliases: []string{"combine images", "merge images", "stack images"},
		DisplayName:   "Batch Images (DEPRECATED)",
		Deprecated:    true,
		Category:      "image/batch",
		Module:        "nodes",
		Inputs: []node.Input{
			{Name: "image1", Type: node.TypeImage},
			{Name: "image2", Type: node.TypeImage},
		},
		Outputs: []node.Output{{Type: node.TypeImage}},
	}
}

func (batchNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	a, b := r.Image("image1"), r.Image("image2")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if a.C != b.C {
		return node.Result{}, fmt.Errorf("batch images: %d channels vs %d", a.C, b.C)
	}
	if a.W != b.W || a.H != b.H {
		var err error
		if b, err = resample.Upscale(b, a.W, a.H, "bilinear", "center"); err != nil {
			return node.Result{}, fmt.Errorf("batch images: %w", err)
		}
	}
	out := &node.Image{N: a.N + b.N, H: a.H, W: a.W, C: a.C, Pix: make([]float32, 0, len(a.Pix)+len(b.Pix))}
	out.Pix = append(append(out.Pix, a.Pix...), b.Pix...)
	return node.Result{Outputs: []any{out}}, nil
}
