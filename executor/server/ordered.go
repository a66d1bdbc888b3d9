package server

import "github.com/regen-dev/regen/executor/internal/pyjson"

// field is one key of an ordered JSON object.
type field struct {
	K string
	V any
}

// ordered is a JSON object that keeps its key order when marshalled (Go maps
// marshal sorted; ComfyUI's dicts keep insertion order). Each package that
// writes ComfyUI's JSON declares it, so that its literals stay local
// (ordered{{"key", v}}); pyjson does the encoding.
type ordered []field

// MarshalJSON writes the fields in order; a nil ordered is {}.
func (o ordered) MarshalJSON() ([]byte, error) {
	return pyjson.MarshalObject(len(o), func(i int) (string, any) { return o[i].K, o[i].V })
}
