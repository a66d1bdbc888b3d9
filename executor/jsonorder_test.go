package executor

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestObjectValuesKeepsOrderAndLastDuplicate(t *testing.T) {
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
			keys, vals, err := objectValues([]byte(raw))
			if err != nil {
				t.Fatalf("objectValues: %v", err)
			}
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("keys %v, want %v", keys[:3], want[:3])
			}
			if vals[0] != tc.wantLast {
				t.Errorf("duplicate key kept %v, want the last value", vals[0])
			}
		})
	}
}
