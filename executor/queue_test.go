package executor

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

func TestQueueOrder(t *testing.T) {
	t.Parallel()
	q := newQueue(func() {})
	for _, it := range []*item{{id: "a", number: 1}, {id: "b", number: 0}, {id: "c", number: 1}, {id: "d", number: -2}} {
		q.put(it)
	}
	q.remove(false, []string{"c"})
	var got []string
	for q.pendingLen() > 0 {
		it, err := q.next(t.Context())
		if err != nil || it == nil {
			t.Fatalf("next: %v", err)
		}
		got = append(got, it.id)
		q.done()
	}
	if want := []string{"d", "b", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v (by number, then insertion; c deleted)", got, want)
	}
}
