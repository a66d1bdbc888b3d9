package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"sync"

	"github.com/regen-dev/regen/executor/node"
)

// item is one queued prompt (ComfyUI's queue tuple plus what the worker
// needs).
type item struct {
	number   float64
	numberJS json.RawMessage // as reported: an int for the counter, a float when given
	seq      uint64
	id       string
	clientID string
	plan     *plan
	prompt   json.RawMessage // validated prompt, constants coerced
	extra    json.RawMessage // extra_data without secrets
	outputs  []string
	pngInfo  []node.KV
	index    int
}

// tuple is the 5-element [number, prompt_id, prompt, extra_data,
// outputs_to_execute] array of /queue and history.
func (it *item) tuple() []any {
	return []any{it.numberJS, it.id, it.prompt, it.extra, it.outputs}
}

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].number != h[j].number {
		return h[i].number < h[j].number
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}

// queue is the prompt queue: a min-heap on (number, insertion) and the one
// running item.
type queue struct {
	mu      sync.Mutex
	pending itemHeap
	running *item
	seq     uint64
	counter int64
	wake    chan struct{}
	changed func() // called after every change, outside the lock
}

func newQueue(changed func()) *queue {
	return &queue{wake: make(chan struct{}, 1), changed: changed}
}

// nextNumber returns the next counter value (ComfyUI's
// number = self.number; self.number += 1).
func (q *queue) nextNumber() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.counter
	q.counter++
	return n
}

func (q *queue) put(it *item) {
	q.mu.Lock()
	q.seq++
	it.seq = q.seq
	heap.Push(&q.pending, it)
	q.mu.Unlock()
	q.signal()
	q.changed()
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next pops the first item; it returns nil when woken without one (so the
// worker can look at /free flags) and ctx.Err() when ctx is done.
func (q *queue) next(ctx context.Context) (*item, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if len(q.pending) > 0 {
			it := heap.Pop(&q.pending).(*item)
			q.running = it
			q.mu.Unlock()
			q.changed()
			return it, nil
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.wake:
			q.mu.Lock()
			empty := len(q.pending) == 0
			q.mu.Unlock()
			if empty {
				return nil, nil
			}
		}
	}
}

// done marks the running item finished.
func (q *queue) done() {
	q.mu.Lock()
	q.running = nil
	q.mu.Unlock()
	q.changed()
}

func (q *queue) remaining() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.pending)
	if q.running != nil {
		n++
	}
	return n
}

func (q *queue) pendingLen() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// current returns the running item, or nil.
func (q *queue) current() *item {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}

// snapshot returns the running and pending tuples; pending in heap order.
func (q *queue) snapshot() (running, pending []any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	running = []any{}
	pending = make([]any, 0, len(q.pending))
	if q.running != nil {
		running = append(running, q.running.tuple())
	}
	for _, it := range q.pending {
		pending = append(pending, it.tuple())
	}
	return running, pending
}

// remove deletes pending items: all when clear, else those in ids.
func (q *queue) remove(clear bool, ids []string) {
	q.mu.Lock()
	changed := false
	if clear {
		changed = len(q.pending) > 0
		q.pending = nil
	}
	for _, id := range ids {
		for i, it := range q.pending {
			if it.id == id {
				heap.Remove(&q.pending, i)
				changed = true
				break
			}
		}
	}
	q.mu.Unlock()
	if changed {
		q.changed()
	}
}
