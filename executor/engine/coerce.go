package engine

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/internal/pyjson"
	"github.com/regen-dev/regen/executor/node"
)

// pyTypeName is the Python type name of a decoded JSON value, for messages
// that mirror Python's.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "int"
		}
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// pyStr formats a value as Python's str() would.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case json.Number:
		return numberStr(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return pyjson.Repr(x)
	case pyjson.Float:
		return pyjson.Repr(float64(x))
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = pyQuote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if s, ok := e.(string); ok {
				parts[i] = pyQuote(s)
			} else {
				parts[i] = pyStr(e)
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// numberStr formats a JSON number as Python would after json.loads.
func numberStr(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return pyjson.Repr(f)
}

// pyQuote is Python's repr of a str.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// plainValue converts decoded JSON numbers to int64/uint64/float64, deeply,
// so that nodes and hashes see ordinary Go values.
func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
			return u
		}
		f, _ := strconv.ParseFloat(x.String(), 64)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainValue(e)
		}
		return out
	default:
		return v
	}
}

// coerce converts a constant to the input's declared type as ComfyUI's
// int()/float()/str()/bool() do, with two deliberate differences: INT
// refuses non-integral numbers (Python's int(8.5) silently truncates to 8,
// which hides a broken workflow), and BOOLEAN refuses strings other than
// true/false/1/0 (Python's bool("false") is True).
func coerce(in node.Input, v any) (any, error) {
	if in.IsCombo() {
		return plainValue(v), nil
	}
	switch in.Type {
	case node.TypeInt:
		return coerceInt(v)
	case node.TypeFloat:
		return coerceFloat(v)
	case node.TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		if _, ok := v.([]any); ok {
			return pyStr(v), nil
		}
		return pyStr(v), nil
	case node.TypeBoolean:
		return coerceBool(v)
	default:
		return plainValue(v), nil
	}
}

func coerceInt(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case json.Number:
		return parseIntLiteral(x.String(), true)
	case string:
		return parseIntLiteral(strings.TrimSpace(x), false)
	default:
		return nil, fmt.Errorf("int() argument must be a string, a bytes-like object or a real number, not '%s'", pyTypeName(v))
	}
}

func parseIntLiteral(s string, number bool) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	if !number {
		return nil, fmt.Errorf("invalid literal for int() with base 10: %s", pyQuote(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("cannot convert %s to integer: out of range", s)
	}
	// int(8.75) is 8 and int(-1.5) is -1 in ComfyUI's validate_inputs.
	f = math.Trunc(f)
	switch {
	case f >= -math.Exp2(63) && f < math.Exp2(63):
		return int64(f), nil
	case f >= 0 && f < math.Exp2(64):
		return uint64(f), nil
	}
	return nil, fmt.Errorf("%s is out of the 64-bit integer range", s)
}

func coerceFloat(v any) (any, error) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
			return nil, fmt.Errorf("could not convert %s to a finite float", x.String())
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return nil, fmt.Errorf("could not convert string to float: %s", pyQuote(x))
		}
	default:
		return nil, fmt.Errorf("float() argument must be a string or a real number, not '%s'", pyTypeName(v))
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("could not convert %s to a finite float", pyStr(v))
	}
	return f, nil
}

func coerceBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, nil
	case json.Number:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			return nil, fmt.Errorf("could not convert %s to bool", x.String())
		}
		return f != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
		return nil, fmt.Errorf("could not convert string to bool: %s", pyQuote(x))
	default:
		return nil, fmt.Errorf("could not convert '%s' to bool", pyTypeName(v))
	}
}

// compareBound compares a coerced numeric value with a bound: -1, 0 or 1.
func compareBound(v any, b float64) int {
	cmpF := func(x, y float64) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	integral := b == math.Trunc(b)
	switch x := v.(type) {
	case int64:
		switch {
		case b >= math.Exp2(63):
			return -1
		case b < -math.Exp2(63):
			return 1
		case integral:
			return cmp.Compare(x, int64(b))
		}
		return cmpF(float64(x), b)
	case uint64:
		switch {
		case b < 0:
			return 1
		case b >= math.Exp2(64):
			return -1
		case integral:
			return cmp.Compare(x, uint64(b))
		}
		return cmpF(float64(x), b)
	case float64:
		return cmpF(x, b)
	}
	return 0
}

// typeMatches is ComfyUI's validate_node_input: equal, "*" on either side,
// or intersecting comma-separated unions. A COMBO input accepts a COMBO or
// "*" link.
func typeMatches(received string, in node.Input) bool {
	want := in.Type
	if in.IsCombo() {
		want = "COMBO"
	}
	if received == want || received == node.TypeAny || want == node.TypeAny {
		return true
	}
	have := map[string]bool{}
	for _, t := range strings.Split(received, ",") {
		have[strings.TrimSpace(t)] = true
	}
	for _, t := range strings.Split(want, ",") {
		if have[strings.TrimSpace(t)] {
			return true
		}
	}
	return false
}
