package latent

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
)

// Nodes returns the latent node classes: EmptyLatentImage, LatentUpscale,
// LatentUpscaleBy, LatentFromBatch, RepeatLatentBatch, LatentAdd,
// LatentMultiply, VAEDecode and VAEEncode.
func Nodes() []node.Node {
	return []node.Node{
		emptyNode{},
		upscaleNode{},
		upscaleByNode{},
		fromBatchNode{},
		repeatBatchNode{},
		addNode{},
		multiplyNode{},
		vaeDecodeNode{},
		vaeEncodeNode{},
	}
}

// upscaleMethods are LatentUpscale's methods.
var upscaleMethods = []string{"nearest-exact", "bilinear", "area", "bicubic", "bislerp"}

// emptyNode is EmptyLatentImage.
type emptyNode struct{}

func (emptyNode) Spec() node.Spec {
	size := func(name, tip string) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: int64(512), Min: node.F(16),
			Max: node.F(node.MaxResolution), Step: node.F(8), Tooltip: tip}
	}
	return node.Spec{
		Name: "EmptyLatentImage", DisplayName: "Empty Latent Image", Category: "model/latent", Module: "nodes",
		SearchAliases: []string{"empty", "empty latent", "new latent", "create latent", "blank latent", "blank"},
		Description:   "Create a new batch of empty latent images to be denoised via sampling.",
		Inputs: []node.Input{
			size("width", "The width of the latent images in pixels."),
			size("height", "The height of the latent images in pixels."),
			{Name: "batch_size", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(4096),
				Tooltip: "The number of latent images in the batch."},
		},
		Outputs: []node.Output{{Type: node.TypeLatent, Tooltip: "The empty latent image batch."}},
	}
}

func (emptyNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	w, h, b := r.Int("width"), r.Int("height"), r.Int("batch_size")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if w < 8 || h < 8 || b < 1 || w > node.MaxResolution || h > node.MaxResolution || b > 4096 {
		return node.Result{}, fmt.Errorf("empty latent: size %dx%d batch %d out of range", w, h, b)
	}
	return node.Result{Outputs: []any{&node.Latent{Samples: node.NewTensor(int(b), 4, int(h/8), int(w/8))}}}, nil
}

// readSamples reads a LATENT input that must have 4-D samples.
func readSamples(r *node.Reader, name string) *node.Latent {
	l := r.Latent(name)
	if r.Err() == nil && (l == nil || l.Samples == nil || len(l.Samples.Shape) != 4) {
		r.Fail(fmt.Errorf("input %s: latent samples must be [B, C, h, w]", name))
	}
	return l
}

// resize is comfy.utils.common_upscale on latent samples, viewed as an
// image [B·C, h, w, 1] of their planes: an optional centre crop to the
// target aspect ratio, then bislerp (bislerp, on the cropped planes as
// [B, C, h, w] again) or the image resampler (channels are independent
// there).
func resize(t *node.Tensor, w, h int, method, crop string) (*node.Tensor, error) {
	b, c := t.Shape[0], t.Shape[1]
	img := &node.Image{N: b * c, H: t.Shape[2], W: t.Shape[3], C: 1, Pix: t.Data}
	if method != "bislerp" {
		r, err := resample.Upscale(img, w, h, method, crop)
		if err != nil {
			return nil, err
		}
		return &node.Tensor{Shape: []int{b, c, r.H, r.W}, Data: r.Pix}, nil
	}
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("upscale to %dx%d: sizes must be positive", w, h)
	}
	if crop == "center" {
		img = resample.CenterCrop(img, w, h)
	} else if crop != "disabled" && crop != "" {
		return nil, fmt.Errorf("upscale: unknown crop %q (want disabled or center)", crop)
	}
	return bislerp(&node.Tensor{Shape: []int{b, c, img.H, img.W}, Data: img.Pix}, w, h), nil
}

// upscaleNode is LatentUpscale.
type upscaleNode struct{}

func (upscaleNode) Spec() node.Spec {
	size := func(name string) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: int64(512), Min: node.F(0),
			Max: node.F(node.MaxResolution), Step: node.F(8)}
	}
	return node.Spec{
		Name: "LatentUpscale", DisplayName: "Upscale Latent", Category: "model/latent", Module: "nodes",
		SearchAliases: []string{"enlarge latent", "resize latent"},
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent},
			{Name: "upscale_method", Combo: upscaleMethods},
			size("width"), size("height"),
			{Name: "crop", Combo: resample.CropMethods},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (upscaleNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	l := readSamples(r, "samples")
	method, crop := r.String("upscale_method"), r.String("crop")
	width, height := r.Int("width"), r.Int("height")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	w, h, pass := resample.TargetSize(l.Samples.Shape[3], l.Samples.Shape[2], int(width), int(height), 64)
	if pass {
		return node.Result{Outputs: []any{l}}, nil
	}
	s, err := resize(l.Samples, w/8, h/8, method, crop)
	if err != nil {
		return node.Result{}, fmt.Errorf("upscale latent: %w", err)
	}
	o := *l
	o.Samples = s
	return node.Result{Outputs: []any{&o}}, nil
}

// upscaleByNode is LatentUpscaleBy.
type upscaleByNode struct{}

func (upscaleByNode) Spec() node.Spec {
	return node.Spec{
		Name: "LatentUpscaleBy", DisplayName: "Upscale Latent By", Category: "model/latent", Module: "nodes",
		SearchAliases: []string{"enlarge latent", "resize latent", "scale latent"},
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent},
			{Name: "upscale_method", Combo: upscaleMethods},
			{Name: "scale_by", Type: node.TypeFloat, Default: 1.5, Min: node.F(0.01), Max: node.F(8), Step: node.F(0.01)},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (upscaleByNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	l := readSamples(r, "samples")
	method, by := r.String("upscale_method"), r.Float("scale_by")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	w := int(math.RoundToEven(float64(l.Samples.Shape[3]) * by))
	h := int(math.RoundToEven(float64(l.Samples.Shape[2]) * by))
	s, err := resize(l.Samples, max(w, 1), max(h, 1), method, "disabled")
	if err != nil {
		return node.Result{}, fmt.Errorf("upscale latent: %w", err)
	}
	o := *l
	o.Samples = s
	return node.Result{Outputs: []any{&o}}, nil
}

// fromBatchNode is LatentFromBatch.
type fromBatchNode struct{}

func (fromBatchNode) Spec() node.Spec {
	return node.Spec{
		Name: "LatentFromBatch", DisplayName: "Get Latent From Batch", Category: "model/latent/batch", Module: "nodes",
		SearchAliases: []string{"select from batch", "pick latent", "batch subset"},
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent},
			// ComfyUI 0.33.0: a negative index counts from the end.
			{Name: "batch_index", Type: node.TypeInt, Default: int64(0), Min: node.F(-node.MaxResolution), Max: node.F(node.MaxResolution)},
			{Name: "length", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(64)},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (fromBatchNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	l := readSamples(r, "samples")
	bi64, n64 := r.Int("batch_index"), r.Int("length")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	b := l.Samples.Shape[0]
	if bi64 < 0 {
		bi64 += int64(b)
	}
	bi := int(min(max(bi64, 0), int64(b-1)))
	n := int(min(max(n64, 1), int64(b-bi)))
	o := node.Latent{Samples: sliceBatch(l.Samples, bi, n)}
	if l.NoiseMask != nil && len(l.NoiseMask.Shape) > 0 {
		m := l.NoiseMask
		if m.Shape[0] == 1 {
			o.NoiseMask = m.Clone()
		} else {
			o.NoiseMask = sliceBatch(repeatTo(m, b), bi, n)
		}
	}
	if l.BatchIndex == nil {
		for i := bi; i < bi+n; i++ {
			o.BatchIndex = append(o.BatchIndex, i)
		}
	} else {
		end := min(bi+n, len(l.BatchIndex))
		o.BatchIndex = append([]int{}, l.BatchIndex[min(bi, end):end]...)
	}
	return node.Result{Outputs: []any{&o}}, nil
}

// sliceBatch returns samples [start, start+n) of t's first dimension.
func sliceBatch(t *node.Tensor, start, n int) *node.Tensor {
	per := t.Numel() / t.Shape[0]
	shape := append([]int{n}, t.Shape[1:]...)
	return &node.Tensor{Shape: shape, Data: append([]float32(nil), t.Data[start*per:(start+n)*per]...)}
}

// repeatTo is comfy.utils.repeat_to_batch_size: cut or tile t's first
// dimension to b.
func repeatTo(t *node.Tensor, b int) *node.Tensor {
	if t.Shape[0] == b {
		return t
	}
	per := t.Numel() / t.Shape[0]
	out := &node.Tensor{Shape: append([]int{b}, t.Shape[1:]...), Data: make([]float32, b*per)}
	for i := 0; i < b; i++ {
		src := i % t.Shape[0]
		copy(out.Data[i*per:(i+1)*per], t.Data[src*per:(src+1)*per])
	}
	return out
}

// repeatBatchNode is RepeatLatentBatch.
type repeatBatchNode struct{}

func (repeatBatchNode) Spec() node.Spec {
	return node.Spec{
		Name: "RepeatLatentBatch", DisplayName: "Repeat Latent Batch", Category: "model/latent/batch", Module: "nodes",
		SearchAliases: []string{"duplicate latent", "clone latent"},
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent},
			{Name: "amount", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(64)},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (repeatBatchNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	l := readSamples(r, "samples")
	a64 := r.Int("amount")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	amount := int(min(max(a64, 1), 64))
	b := l.Samples.Shape[0]
	o := node.Latent{Samples: repeatTo(l.Samples, b*amount), NoiseMask: l.NoiseMask}
	if l.NoiseMask != nil && len(l.NoiseMask.Shape) > 0 && l.NoiseMask.Shape[0] > 1 {
		m := l.NoiseMask
		o.NoiseMask = repeatTo(m, m.Shape[0]*amount)
	}
	if l.BatchIndex != nil {
		lo, hi := l.BatchIndex[0], l.BatchIndex[0]
		for _, v := range l.BatchIndex {
			lo, hi = min(lo, v), max(hi, v)
		}
		offset := hi - lo + 1
		o.BatchIndex = append([]int{}, l.BatchIndex...)
		for i := 1; i < amount; i++ {
			for _, x := range l.BatchIndex {
				o.BatchIndex = append(o.BatchIndex, x+i*offset)
			}
		}
	}
	return node.Result{Outputs: []any{&o}}, nil
}

// addNode is LatentAdd; multiplyNode is LatentMultiply.
type (
	addNode      struct{}
	multiplyNode struct{}
)

func (addNode) Spec() node.Spec {
	return node.Spec{
		Name: "LatentAdd", DisplayName: "LatentAdd", SearchAliases: []string{"combine latents", "sum latents"}, Category: "model/latent/advanced", Module: "comfy_extras.nodes_latent", V3: true,
		Inputs:  []node.Input{{Name: "samples1", Type: node.TypeLatent}, {Name: "samples2", Type: node.TypeLatent}},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

// Execute adds samples2, resized (bilinear, centre crop) to samples1's size
// and repeated to its batch size where needed (reshape_latent_to).
func (addNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	a, b := readSamples(r, "samples1"), readSamples(r, "samples2")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	s2 := b.Samples
	if s2.Shape[1] != a.Samples.Shape[1] {
		return node.Result{}, fmt.Errorf("latent add: %d channels vs %d", s2.Shape[1], a.Samples.Shape[1])
	}
	if s2.Shape[2] != a.Samples.Shape[2] || s2.Shape[3] != a.Samples.Shape[3] {
		var err error
		if s2, err = resize(s2, a.Samples.Shape[3], a.Samples.Shape[2], "bilinear", "center"); err != nil {
			return node.Result{}, fmt.Errorf("latent add: %w", err)
		}
	}
	s2 = repeatTo(s2, a.Samples.Shape[0])
	o := *a
	o.Samples = a.Samples.Clone()
	for i, v := range s2.Data {
		o.Samples.Data[i] += v
	}
	return node.Result{Outputs: []any{&o}}, nil
}

func (multiplyNode) Spec() node.Spec {
	return node.Spec{
		Name: "LatentMultiply", DisplayName: "LatentMultiply", SearchAliases: []string{"scale latent", "amplify latent", "latent gain"}, Category: "model/latent/advanced", Module: "comfy_extras.nodes_latent", V3: true,
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent},
			{Name: "multiplier", Type: node.TypeFloat, Default: 1.0, Min: node.F(-10), Max: node.F(10), Step: node.F(0.01)},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (multiplyNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	l, m := readSamples(r, "samples"), r.Float("multiplier")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	o := *l
	o.Samples = l.Samples.Clone()
	f := float32(m)
	for i, v := range o.Samples.Data {
		o.Samples.Data[i] = v * f
	}
	return node.Result{Outputs: []any{&o}}, nil
}
