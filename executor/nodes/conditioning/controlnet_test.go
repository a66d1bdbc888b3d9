package conditioning

import (
	"context"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

type fakeControlNet struct{ node.ControlNet }

// TestControlNetApply checks that the apply nodes attach one control per
// entry (keeping the ones already there and the input unchanged), that a
// strength of 0 passes the conditioning through, that ZeroOut keeps the
// controls, and that a bad input is named.
func TestControlNetApply(t *testing.T) {
	t.Parallel()
	net := fakeControlNet{}
	hint := &node.Image{}
	prior := node.Control{Net: net, Hint: hint, Strength: 0.5, Start: 0, End: 1}
	base := node.Conditioning{{Text: "a"}, {Text: "b", Control: []node.Control{prior}}}

	res, err := controlNetApplyAdvancedNode{}.Execute(context.Background(), nil, map[string]any{
		"positive": base, "negative": base[:1], "control_net": node.ControlNet(net), "image": hint,
		"strength": 0.8, "start_percent": 0.2, "end_percent": 0.6,
	})
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := res.Outputs[0].(node.Conditioning), res.Outputs[1].(node.Conditioning)
	if len(pos) != 2 || len(pos[0].Control) != 1 || len(pos[1].Control) != 2 || len(neg[0].Control) != 1 {
		t.Fatalf("controls per entry: %d %d %d", len(pos[0].Control), len(pos[1].Control), len(neg[0].Control))
	}
	if got := pos[1].Control[1]; got.Strength != 0.8 || got.Start != 0.2 || got.End != 0.6 || got.Hint != hint {
		t.Errorf("attached control %+v", got)
	}
	if len(base[0].Control) != 0 || len(base[1].Control) != 1 {
		t.Errorf("the input conditioning was modified: %+v", base)
	}

	res, err = controlNetApplyNode{}.Execute(context.Background(), nil, map[string]any{
		"conditioning": base, "control_net": node.ControlNet(net), "image": hint, "strength": 0.0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs[0].(node.Conditioning); len(got[0].Control) != 0 || len(got[1].Control) != 1 {
		t.Errorf("strength 0 attached a control: %+v", got)
	}

	res, err = zeroOutNode{}.Execute(context.Background(), nil, map[string]any{"conditioning": base})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs[0].(node.Conditioning); len(got[1].Control) != 1 {
		t.Errorf("ConditioningZeroOut dropped the controls: %+v", got)
	}

	_, err = controlNetApplyNode{}.Execute(context.Background(), nil, map[string]any{
		"conditioning": base, "control_net": node.ControlNet(net), "strength": 1.0,
	})
	if err == nil || !strings.Contains(err.Error(), "image") {
		t.Errorf("missing image: err %v, want it named", err)
	}
}
