package server

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestHistoryBoundsAndPaging(t *testing.T) {
	t.Parallel()
	h := newHistory(4)
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		h.put(id, json.RawMessage(`{}`))
	}
	ids := func(es []*histEntry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.id)
		}
		return out
	}
	tests := []struct {
		name             string
		maxItems, offset int
		want             []string
	}{
		{"all, oldest dropped past MaxHistory", -1, -1, []string{"c", "d", "e", "f"}},
		{"max_items alone gives the newest", 2, -1, []string{"e", "f"}},
		{"max_items and offset", 2, 1, []string{"d", "e"}},
		{"offset alone", -1, 3, []string{"f"}},
		{"offset past the end", 2, 10, []string{}},
		{"max_items larger than history", 10, -1, []string{"c", "d", "e", "f"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(h.list(tc.maxItems, tc.offset)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("list(%d, %d) = %v, want %v", tc.maxItems, tc.offset, got, tc.want)
			}
		})
	}
}
