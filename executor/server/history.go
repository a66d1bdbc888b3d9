package server

import (
	"container/list"
	"encoding/json"
	"sync"
)

// history keeps finished prompts in insertion order: at most max entries
// and at most maxBytes of entry JSON, the oldest dropped first (the newest
// entry is kept even when it alone is larger).
type history struct {
	mu       sync.Mutex
	max      int
	maxBytes int64
	bytes    int64      // sum of the kept entries' JSON sizes
	order    *list.List // of *histEntry
	byID     map[string]*list.Element
}

type histEntry struct {
	id   string
	data json.RawMessage
}

func newHistory(max int, maxBytes int64) *history {
	return &history{max: max, maxBytes: maxBytes, order: list.New(), byID: map[string]*list.Element{}}
}

// drop removes el; mu is held.
func (h *history) drop(el *list.Element) {
	e := el.Value.(*histEntry)
	h.bytes -= int64(len(e.data))
	delete(h.byID, e.id)
	h.order.Remove(el)
}

func (h *history) put(id string, data json.RawMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.byID[id]; ok {
		h.drop(el)
	}
	h.byID[id] = h.order.PushBack(&histEntry{id: id, data: data})
	h.bytes += int64(len(data))
	for h.order.Len() > h.max || (h.bytes > h.maxBytes && h.order.Len() > 1) {
		h.drop(h.order.Front())
	}
}

func (h *history) get(id string) (json.RawMessage, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.byID[id]
	if !ok {
		return nil, false
	}
	return el.Value.(*histEntry).data, true
}

// list returns entries as ComfyUI's get_history does: from offset, at most
// maxItems (<0: all); a negative offset with maxItems set means the last
// maxItems entries.
func (h *history) list(maxItems, offset int) []*histEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	if offset < 0 && maxItems >= 0 {
		offset = h.order.Len() - maxItems
	}
	var out []*histEntry
	i := 0
	for el := h.order.Front(); el != nil; el = el.Next() {
		if i >= offset {
			out = append(out, el.Value.(*histEntry))
			if maxItems >= 0 && len(out) >= maxItems {
				break
			}
		}
		i++
	}
	return out
}

func (h *history) remove(clear bool, ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if clear {
		h.order.Init()
		h.byID = map[string]*list.Element{}
		h.bytes = 0
	}
	for _, id := range ids {
		if el, ok := h.byID[id]; ok {
			h.drop(el)
		}
	}
}
