package engine

import (
	"errors"
	"fmt"
	"sort"

	"github.com/regen-dev/regen/executor/node"
)

// DefaultMaxPixels is the default bound on width × height: 4096², 16 times
// an SDXL image, while a 16384² latent (268 Mpx, gigabytes once decoded)
// is refused.
const DefaultMaxPixels = 4096 * 4096

// DefaultMaxBatch is the default bound on a batch size.
const DefaultMaxBatch = 256

// Limits bound what a prompt may ask the server to allocate, so that a
// 16384² latent or a batch of 4096 is a validation error (400) rather than
// gigabytes allocated. They are checked on constant inputs at validation,
// and again on every node call's resolved inputs at execution (runtime):
// the backstop for a size that arrives through a link or grows along a
// chain of nodes.
type Limits struct {
	// MaxPixels bounds width × height of a node given both as constants
	// (EmptyLatentImage, LatentUpscale, ImageScale, EmptyImage, …);
	// 0 → DefaultMaxPixels, < 0 → unbounded.
	MaxPixels int64
	// MaxBatch bounds a constant batch_size or amount (RepeatLatentBatch);
	// 0 → DefaultMaxBatch, < 0 → unbounded.
	MaxBatch int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels == 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxBatch == 0 {
		l.MaxBatch = DefaultMaxBatch
	}
	return l
}

// batchInputs are the INT inputs that multiply a batch.
var batchInputs = []string{"batch_size", "amount"}

// check returns a value_bigger_than_max reason (the type ComfyUI gives a
// value above an input's max) for each bound a node's constants exceed.
// The message names the server's flag, so that a client can tell the bound
// from the node's own max.
func (l Limits) check(spec node.Spec, consts map[string]any) []Reason {
	input := func(name string) (node.Input, bool) {
		for _, in := range spec.Inputs {
			if in.Name == name && in.Type == node.TypeInt {
				return in, true
			}
		}
		return node.Input{}, false
	}
	reason := func(in node.Input, v int64, msg string) Reason {
		return Reason{Type: "value_bigger_than_max", Message: msg, Details: in.Name,
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", errorInputConfig(in, nil, spec.V3)}, {"received_value", v}}}
	}
	var out []Reason
	if l.MaxPixels > 0 {
		win, okw := input("width")
		_, okh := input("height")
		w, isW := consts["width"].(int64)
		h, isH := consts["height"].(int64)
		if okw && okh && isW && isH && w > 0 && h > 0 && (w > l.MaxPixels/h || w*h > l.MaxPixels) {
			out = append(out, reason(win, w, fmt.Sprintf("Value %d bigger than max: width × height = %d × %d is more than this server's --max-pixels of %d", w, w, h, l.MaxPixels)))
		}
	}
	if l.MaxBatch > 0 {
		for _, name := range batchInputs {
			in, ok := input(name)
			b, isInt := consts[name].(int64)
			if ok && isInt && b > l.MaxBatch {
				out = append(out, reason(in, b, fmt.Sprintf("Value %d bigger than this server's --max-batch of %d", b, l.MaxBatch)))
			}
		}
	}
	return out
}

// latentScale is the VAE's spatial factor: a latent of h×w is an image of
// (8h)×(8w).
const latentScale = 8

// ErrLimit is wrapped by the execution error of a node call that the
// runtime backstop refused.
var ErrLimit = errors.New("over this server's size limits")

// runtime is the backstop at execution: the same bounds on one call's
// resolved inputs, where validation saw constants only. A width, height or
// batch that arrived through a link, an IMAGE or LATENT input over the
// bounds (grown by a chain of upscales), or a scale_by that would take its
// input over them is refused before the node allocates.
func (l Limits) runtime(spec node.Spec, in map[string]any) error {
	l = l.withDefaults()
	ints := map[string]any{}
	for k, v := range in {
		if i, ok := v.(int64); ok {
			ints[k] = i
		}
	}
	if rs := l.check(spec, ints); len(rs) > 0 {
		return fmt.Errorf("%s: %w", rs[0].Message, ErrLimit)
	}
	scale := 1.0
	if s, ok := in["scale_by"].(float64); ok && s > 1 {
		scale = s
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		var n, h, w int64
		switch v := in[name].(type) {
		case *node.Image:
			n, h, w = int64(v.N), int64(v.H), int64(v.W)
		case *node.Latent:
			if v.Samples == nil || len(v.Samples.Shape) != 4 {
				continue
			}
			sh := v.Samples.Shape
			n, h, w = int64(sh[0]), int64(sh[2])*latentScale, int64(sh[3])*latentScale
		default:
			continue
		}
		if l.MaxBatch > 0 && n > l.MaxBatch {
			return fmt.Errorf("input %s has a batch of %d, more than this server's --max-batch of %d: %w", name, n, l.MaxBatch, ErrLimit)
		}
		if px := float64(h) * float64(w) * scale * scale; l.MaxPixels > 0 && px > float64(l.MaxPixels) {
			return fmt.Errorf("input %s is %d × %d pixels (scaled by %g), more than this server's --max-pixels of %d: %w",
				name, w, h, scale, l.MaxPixels, ErrLimit)
		}
	}
	return nil
}
