package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestHistoryBoundsAndPaging(t *testing.T) {
	t.Parallel()
	h := newHistory(4, 1<<20)
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

// TestHistoryBoundedByBytes: entries are dropped oldest first once their
// JSON passes maxBytes, whatever the count; the newest stays even alone
// over the bound; deleting and replacing keep the byte count right.
func TestHistoryBoundedByBytes(t *testing.T) {
	t.Parallel()
	entry := func(n int) json.RawMessage { return json.RawMessage(`"` + strings.Repeat("x", n-2) + `"`) }
	ids := func(h *history) string {
		var out []string
		for _, e := range h.list(-1, -1) {
			out = append(out, e.id)
		}
		return strings.Join(out, ",")
	}
	h := newHistory(100, 1000)
	for _, id := range []string{"a", "b", "c", "d"} {
		h.put(id, entry(300))
	}
	if got := ids(h); got != "b,c,d" || h.bytes != 900 {
		t.Errorf("after 4 × 300 B under 1000 B: %s (%d B), want b,c,d (900 B)", got, h.bytes)
	}
	h.put("c", entry(100)) // replaced: moves to the end, its old size released
	if got := ids(h); got != "b,d,c" || h.bytes != 700 {
		t.Errorf("after replacing c: %s (%d B), want b,d,c (700 B)", got, h.bytes)
	}
	h.remove(false, []string{"d"})
	if got := ids(h); got != "b,c" || h.bytes != 400 {
		t.Errorf("after deleting d: %s (%d B), want b,c (400 B)", got, h.bytes)
	}
	h.put("big", entry(5000))
	if got := ids(h); got != "big" || h.bytes != 5000 {
		t.Errorf("after an entry over the bound: %s (%d B), want only it kept", got, h.bytes)
	}
	h.remove(true, nil)
	h.put("e", entry(10))
	if got := ids(h); got != "e" || h.bytes != 10 {
		t.Errorf("after clear: %s (%d B), want e (10 B)", got, h.bytes)
	}
}
