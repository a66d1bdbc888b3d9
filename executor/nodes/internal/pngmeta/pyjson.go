package pngmeta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// PyJSON re-serialises a JSON document exactly as Python's
// json.dumps(json.loads(raw)) would (what ComfyUI writes into its PNG
// chunks): object keys keep their order, separators are ", " and ": ",
// integers keep their digits, other numbers print as Python's float repr
// ("8.0", "1e-05", "1e+16"), and every non-ASCII or control character is
// escaped as \uXXXX (lowercase hex, surrogate pairs above U+FFFF), so the
// result is always plain ASCII and fits a tEXt chunk.
func PyJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	out.Grow(len(raw) + len(raw)/8)
	if err := pyWriteValue(dec, &out); err != nil {
		return nil, fmt.Errorf("format json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("format json: trailing data after the value")
	}
	return out.Bytes(), nil
}

func pyWriteValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out.WriteByte('{')
			for first := true; dec.More(); first = false {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				ks, ok := k.(string)
				if !ok {
					return fmt.Errorf("object key %v is not a string", k)
				}
				if !first {
					out.WriteString(", ")
				}
				pyWriteString(out, ks)
				out.WriteString(": ")
				if err := pyWriteValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteString(", ")
				}
				if err := pyWriteValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			out.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %v", t)
		}
	case string:
		pyWriteString(out, t)
	case json.Number:
		s, err := pyNumber(string(t))
		if err != nil {
			return err
		}
		out.WriteString(s)
	case bool:
		if t {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %T", tok)
	}
	return nil
}

// pyWriteString writes s as json.dumps(s, ensure_ascii=True) does.
func pyWriteString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	u := func(c rune) {
		out.WriteString(`\u`)
		out.WriteByte(hex[c>>12&0xf])
		out.WriteByte(hex[c>>8&0xf])
		out.WriteByte(hex[c>>4&0xf])
		out.WriteByte(hex[c&0xf])
	}
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			out.WriteByte(byte(r))
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 | (r>>10)&0x3ff)
			u(0xdc00 | r&0x3ff)
		default:
			u(r)
		}
	}
	out.WriteByte('"')
}

// pyNumber formats a JSON number literal as Python prints the value that
// json.loads makes of it: int literals stay as they are (Python ints are
// unbounded), anything with a fraction or exponent becomes a float repr.
func pyNumber(lit string) (string, error) {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return "0", nil
		}
		return lit, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return "", fmt.Errorf("number %q: %w", lit, err)
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits,
// fixed notation when the decimal exponent is in [-4, 16), else
// d.ddde±XX; fixed notation always has a fractional part.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	sign := ""
	if math.Signbit(f) {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits × 10^decpt
	if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es = "-"
			exp = -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}
