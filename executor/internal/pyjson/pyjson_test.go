package pyjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestObjectFieldsKeepsOrderAndLastDuplicate(t *testing.T) {
	t.Parallel()
	big := func(n int) (string, []string) {
		var b strings.Builder
		var keys []string
		b.WriteString("{")
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("k%03d", n-i) // descending: order must not be sorted
			keys = append(keys, k)
			fmt.Fprintf(&b, `"%s": %d, `, k, i)
		}
		fmt.Fprintf(&b, `"%s": "last"}`, keys[0])
		return b.String(), keys
	}
	tests := []struct {
		name     string
		n        int
		wantLast any
	}{
		{"small object scans", 3, "last"},
		{"large object indexes", 100, "last"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, want := big(tc.n)
			keys, vals, err := Fields[any]([]byte(raw))
			if err != nil {
				t.Fatalf("objectFields: %v", err)
			}
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("keys %v, want %v", keys[:3], want[:3])
			}
			if vals[0] != tc.wantLast {
				t.Errorf("duplicate key kept %v, want the last value", vals[0])
			}
			rkeys, raws, err := Fields[json.RawMessage]([]byte(raw))
			if err != nil {
				t.Fatalf("objectFields raw: %v", err)
			}
			if !reflect.DeepEqual(rkeys, want) {
				t.Errorf("raw keys %v, want %v", rkeys[:3], want[:3])
			}
			if got := string(raws[0]); got != `"last"` {
				t.Errorf("raw: duplicate key kept %s, want the last value", got)
			}
		})
	}
}

func TestPyRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{8, "8.0"}, {0.1, "0.1"}, {1e-5, "1e-05"}, {1e16, "1e+16"}, {123456789012345.0, "123456789012345.0"},
		{-0.5, "-0.5"}, {1.5e300, "1.5e+300"}, {0.0001, "0.0001"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := Repr(tc.in); got != tc.want {
				t.Errorf("Repr(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
