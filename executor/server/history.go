package server

import (
	"container/list"
	"encoding/json"
	"sync"
)

// history keeps finished prompts in insertion order, at most max.
type history struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *histEntry
	byID  map[string]*list.Element
}

type histEntry struct {
	id   string
	data json.RawMessage
}

func newHistory(max int) *history {
	return &history{max: max, order: list.New(), byID: map[string]*list.Element{}}
}

func (h *history) put(id string, data json.RawMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.byID[id]; ok {
		h.order.Remove(el)
	}
	h.byID[id] = h.order.PushBack(&histEntry{id: id, data: data})
	for h.order.Len() > h.max {
		el := h.order.Front()
		delete(h.byID, el.Value.(*histEntry).id)
		h.order.Remove(el)
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
	}
	for _, id := range ids {
		if el, ok := h.byID[id]; ok {
			h.order.Remove(el)
			delete(h.byID, id)
		}
	}
}
