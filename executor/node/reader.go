package node

import "fmt"

// Reader reads a node's inputs by name and type. Each getter returns the
// zero value once a read has failed and keeps only the first error, which
// names the input, so that Execute reads everything it needs and checks
// once:
//
//	r := node.Inputs(in)
//	steps := r.IntIn("steps", 1, 10000)
//	cfg := r.Float("cfg")
//	latent := r.Latent("latent_image")
//	if err := r.Err(); err != nil {
//		return node.Result{}, err
//	}
//
// The error texts are those of Int, Uint, Float, String, Bool and As
// ("input steps: got string, want INT", "input model: missing").
type Reader struct {
	in  map[string]any
	err error
}

// Inputs returns a reader over the inputs Execute (or IsChanged) received.
func Inputs(in map[string]any) *Reader { return &Reader{in: in} }

// Err returns the first error of any read, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err as the reader's error unless one is recorded already;
// a nil err is ignored. Node-specific checks of a value just read use it
// to report through the same Err.
func (r *Reader) Fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

// Has reports whether the input is present (an optional input that the
// prompt leaves out is absent).
func (r *Reader) Has(name string) bool {
	_, ok := r.in[name]
	return ok
}

// read runs get unless a read failed already.
func read[T any](r *Reader, name string, get func(map[string]any, string) (T, error)) T {
	var zero T
	if r.err != nil {
		return zero
	}
	v, err := get(r.in, name)
	if err != nil {
		r.err = err
		return zero
	}
	return v
}

// Int reads an INT input (see the function Int).
func (r *Reader) Int(name string) int64 { return read(r, name, Int) }

// IntIn reads an INT input that must lie in lo..hi.
func (r *Reader) IntIn(name string, lo, hi int64) int64 {
	v := r.Int(name)
	if r.err == nil && (v < lo || v > hi) {
		r.err = fmt.Errorf("input %s: %d out of range %d..%d", name, v, lo, hi)
		return 0
	}
	return v
}

// Uint reads an INT input as uint64, for seeds (see the function Uint).
func (r *Reader) Uint(name string) uint64 { return read(r, name, Uint) }

// Float reads a FLOAT input (see the function Float).
func (r *Reader) Float(name string) float64 { return read(r, name, Float) }

// String reads a STRING or COMBO input.
func (r *Reader) String(name string) string { return read(r, name, String) }

// Bool reads a BOOLEAN input.
func (r *Reader) Bool(name string) bool { return read(r, name, Bool) }

// Image reads an IMAGE input.
func (r *Reader) Image(name string) *Image { return Get[*Image](r, name) }

// Mask reads a MASK input.
func (r *Reader) Mask(name string) *Mask { return Get[*Mask](r, name) }

// Latent reads a LATENT input.
func (r *Reader) Latent(name string) *Latent { return Get[*Latent](r, name) }

// Conditioning reads a CONDITIONING input.
func (r *Reader) Conditioning(name string) Conditioning { return Get[Conditioning](r, name) }

// Model reads a MODEL input.
func (r *Reader) Model(name string) Model { return Get[Model](r, name) }

// CLIP reads a CLIP input.
func (r *Reader) CLIP(name string) CLIP { return Get[CLIP](r, name) }

// VAE reads a VAE input.
func (r *Reader) VAE(name string) VAE { return Get[VAE](r, name) }

// Get reads an input of any Go type T (a link type of a node family, such
// as sampling.Sigmas), with the errors of As.
func Get[T any](r *Reader, name string) T { return read(r, name, As[T]) }

// OptionalInt reads an optional INT input, def when it is absent.
func (r *Reader) OptionalInt(name string, def int64) int64 {
	if !r.Has(name) {
		return def
	}
	return r.Int(name)
}

// OptionalFloat reads an optional FLOAT input, def when it is absent.
func (r *Reader) OptionalFloat(name string, def float64) float64 {
	if !r.Has(name) {
		return def
	}
	return r.Float(name)
}

// OptionalString reads an optional STRING or COMBO input, def when it is
// absent.
func (r *Reader) OptionalString(name string, def string) string {
	if !r.Has(name) {
		return def
	}
	return r.String(name)
}

// OptionalBool reads an optional BOOLEAN input, def when it is absent.
func (r *Reader) OptionalBool(name string, def bool) bool {
	if !r.Has(name) {
		return def
	}
	return r.Bool(name)
}

// Optional reads an optional input of any Go type T: the zero value and
// false when it is absent.
func Optional[T any](r *Reader, name string) (T, bool) {
	if !r.Has(name) {
		var zero T
		return zero, false
	}
	return Get[T](r, name), true
}
