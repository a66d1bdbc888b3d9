// Package pyjson writes and reads JSON the way ComfyUI's Python does:
// objects that keep their key order (MarshalObject), floats as Python's repr
// writes them (Float, Repr: 8.0, 1e-05), and objects decoded into their keys
// in order (Fields). The engine and the server of regen-executor share it.
package pyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MarshalObject writes a JSON object of n keys in order: field(i) returns
// the i-th key and value; values are written as Marshal does.
func MarshalObject(n int, field func(i int) (string, any)) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		k, v := field(i)
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Float is a float64 that marshals as Python's repr does (8.0, 1e-05).
type Float float64

// MarshalJSON writes the Python repr; NaN and infinities become null.
func (f Float) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return []byte(Repr(float64(f))), nil
}

// Repr formats f as Python's repr(float).
func Repr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	sign := "+"
	if exp < 0 {
		sign = "-"
		exp = -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp)
}

// Marshal marshals v, writing float64 values Python-style.
func Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		return Float(x).MarshalJSON()
	case []any:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			eb, err := Marshal(e)
			if err != nil {
				return nil, err
			}
			b.Write(eb)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	default:
		return json.Marshal(v)
	}
}

// Fields decodes a JSON object into its keys, in the order they
// appear, and their values as V (json.RawMessage to split the object, any for
// plain values with json.Number for numbers), with one decoder. Duplicate
// keys keep the last value at the first position (as Python's json does).
func Fields[V any](raw []byte) ([]string, []V, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("read object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("read object: not a JSON object")
	}
	var keys []string
	var vals []V
	var index map[string]int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("read object key: %w", err)
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("read object key: not a string")
		}
		var v V
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("read value of %q: %w", k, err)
		}
		// Small objects (node inputs) scan; large ones use an index.
		i := -1
		if index != nil {
			if j, ok := index[k]; ok {
				i = j
			}
		} else {
			for j, have := range keys {
				if have == k {
					i = j
					break
				}
			}
		}
		if i >= 0 {
			vals[i] = v
			continue
		}
		keys = append(keys, k)
		vals = append(vals, v)
		if index != nil {
			index[k] = len(keys) - 1
		} else if len(keys) == 32 {
			index = make(map[string]int, 64)
			for j, have := range keys {
				index[have] = j
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("read object end: %w", err)
	}
	return keys, vals, nil
}

// IsObject reports whether raw (trimmed) starts a JSON object.
func IsObject(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// Write appends the JSON encoding of v to b (null when v cannot be
// encoded).
func Write(b *bytes.Buffer, v any) {
	e, err := json.Marshal(v)
	if err != nil {
		e = []byte("null")
	}
	b.Write(e)
}
