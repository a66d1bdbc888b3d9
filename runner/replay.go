package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/runner/plan"
)

// Output is one image a replay produced: the output node, its index and
// the PNG.
type Output struct {
	Node  string
	Index int
	PNG   []byte
}

// Replay replays case c on endpoint ep and returns its images without
// judging them (regen golden calibrate measures them), bounded by the
// case's timeout. The executor's cache is freed first, as for Case.
func (s *Session) Replay(ctx context.Context, c plan.Case, ep int) ([]Output, error) {
	rctx, cancel := context.WithTimeout(ctx, s.caseTimeout(c))
	defer cancel()
	_, outs, err := s.replay(rctx, c, ep)
	if err != nil {
		return nil, err
	}
	res := make([]Output, len(outs))
	for i, o := range outs {
		res[i] = Output(o)
	}
	return res, nil
}

// caseTimeout bounds one replay of case c: an explicit Options.Timeout
// (--timeout) first, then the case's own (the suite's timeout:), then
// DefaultCaseTimeout.
func (s *Session) caseTimeout(c plan.Case) time.Duration {
	switch {
	case s.opts.Timeout > 0:
		return s.opts.Timeout
	case c.Timeout > 0:
		return c.Timeout
	}
	return DefaultCaseTimeout
}

// replay submits the case's prompt to endpoint ep, waits for it, and
// downloads every image it produced: the "images" of each output node
// (SaveImage, PreviewImage) via /view, and the PNGs streamed over the
// websocket (SaveImageWebsocket). Outputs are ordered by node id (numeric
// ids numerically), then by position.
func (s *Session) replay(ctx context.Context, c plan.Case, ep int) (string, []output, error) {
	cl := s.clients[ep]
	var opts client.RunOptions
	if c.UI != nil {
		// As the ComfyUI frontend does: the editor graph rides along and
		// SaveImage stores it in the PNG.
		opts.ExtraPNGInfo = map[string]any{"workflow": json.RawMessage(c.UI)}
	}
	if !s.opts.ReuseCache {
		// Every case starts from a clean executor cache, so that what a
		// case produces never depends on which case ran before it on this
		// replica (with concurrency, that order is not fixed).
		if err := cl.Free(ctx, false, true); err != nil {
			return "", nil, fmt.Errorf("reset executor cache: %w", err)
		}
	}
	res, err := cl.Run(ctx, c.Prompt, opts)
	id := ""
	if res != nil {
		id = res.PromptID
	}
	if err != nil {
		return id, nil, err
	}
	if len(res.NodeErrors) > 0 {
		nodes := make([]string, 0, len(res.NodeErrors))
		for n, e := range res.NodeErrors {
			msgs := make([]string, 0, len(e.Errors))
			for _, d := range e.Errors {
				msgs = append(msgs, d.String())
			}
			nodes = append(nodes, fmt.Sprintf("%s (%s): %s", n, e.ClassType, strings.Join(msgs, "; ")))
		}
		sort.Strings(nodes)
		return id, nil, fmt.Errorf("the server dropped output nodes at validation: %s", strings.Join(nodes, ", "))
	}
	seen := map[string]bool{}
	var ids []string
	for n := range res.Outputs {
		if !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	for n := range res.WSImages {
		if !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return lessID(ids[i], ids[j]) })
	var outs []output
	for _, n := range ids {
		idx := 0
		for _, ref := range res.Outputs[n].Images {
			data, err := cl.View(ctx, ref)
			if err != nil {
				return id, nil, fmt.Errorf("download output of node %s: %w", n, err)
			}
			outs = append(outs, output{Node: n, Index: idx, PNG: data})
			idx++
		}
		for _, data := range res.WSImages[n] {
			outs = append(outs, output{Node: n, Index: idx, PNG: data})
			idx++
		}
	}
	return id, outs, nil
}

// lessID orders node ids: numbers numerically, before other ids, which
// sort as text.
func lessID(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return x < y
	case errA == nil:
		return true
	case errB == nil:
		return false
	}
	return a < b
}
