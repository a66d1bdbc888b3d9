package engine

import (
	"reflect"
	"testing"
)

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
