package engine

import (
	"fmt"

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
// gigabytes allocated. They are checked on constant inputs at validation;
// a size that arrives through a link is not bounded here.
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
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", errorInputConfig(in, nil)}, {"received_value", v}}}
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
