package conditioning

import (
	"errors"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

// fakeCLIP encodes a text as its length.
type fakeCLIP struct{ err error }

func (c fakeCLIP) Encode(text string) (node.Cond, error) {
	return node.Cond{Vec: []float32{float32(len(text))}, Text: text}, c.err
}

func TestConditioningNodeSpecs(t *testing.T) {
	t.Parallel()
	byName := map[string]node.Spec{}
	for _, n := range Nodes() {
		byName[n.Spec().Name] = n.Spec()
	}
	tests := []struct {
		class   string
		inputs  []string
		outputs []string
	}{
		{"CLIPTextEncode", []string{"text", "clip"}, []string{"CONDITIONING"}},
		{"ConditioningCombine", []string{"conditioning_1", "conditioning_2"}, []string{"CONDITIONING"}},
		{"ConditioningZeroOut", []string{"conditioning"}, []string{"CONDITIONING"}},
	}
	if len(byName) != len(tests) {
		t.Fatalf("%d classes, want %d", len(byName), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.class, func(t *testing.T) {
			t.Parallel()
			s, ok := byName[tc.class]
			if !ok {
				t.Fatalf("%s not registered", tc.class)
			}
			var in, out []string
			for _, i := range s.Inputs {
				in = append(in, i.Name)
			}
			for _, o := range s.Outputs {
				out = append(out, o.Type)
			}
			if !slices.Equal(in, tc.inputs) || !slices.Equal(out, tc.outputs) {
				t.Errorf("inputs %v outputs %v, want %v %v", in, out, tc.inputs, tc.outputs)
			}
		})
	}
	text, _ := byName["CLIPTextEncode"].Input("text")
	if !text.Multiline || !text.DynamicPrompts || text.Type != node.TypeString {
		t.Errorf("text input %+v", text)
	}
}

func TestConditioningNodes(t *testing.T) {
	t.Parallel()
	a := node.Conditioning{{Vec: []float32{0.6, 0.8}, Text: "red circle"}}
	b := node.Conditioning{{Vec: []float32{1, 0}, Text: "sky"}}
	tests := []struct {
		name string
		n    node.Node
		in   map[string]any
		want node.Conditioning
	}{
		{"encode", textEncodeNode{}, map[string]any{"text": "red circle", "clip": node.CLIP(fakeCLIP{})},
			node.Conditioning{{Vec: []float32{10}, Text: "red circle"}}},
		{"combine concatenates", combineNode{}, map[string]any{"conditioning_1": a, "conditioning_2": b},
			node.Conditioning{a[0], b[0]}},
		{"zero out keeps the text", zeroOutNode{}, map[string]any{"conditioning": a},
			node.Conditioning{{Vec: []float32{0, 0}, Text: "red circle"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := nodetest.Exec(t, tc.n, nil, tc.in)[0].(node.Conditioning)
			if !slices.EqualFunc(got, tc.want, func(x, y node.Cond) bool { return x.Text == y.Text && slices.Equal(x.Vec, y.Vec) }) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if a[0].Vec[0] != 0.6 {
		t.Errorf("zero out modified its input: %v", a[0].Vec)
	}
}

func TestConditioningNodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    node.Node
		in   map[string]any
		want string
	}{
		{"text missing", textEncodeNode{}, map[string]any{"clip": node.CLIP(fakeCLIP{})}, "input text: got <nil>, want STRING"},
		{"clip not a CLIP", textEncodeNode{}, map[string]any{"text": "x", "clip": 3}, "input clip: got int, want node.CLIP"},
		{"encoder fails", textEncodeNode{}, map[string]any{"text": "x", "clip": node.CLIP(fakeCLIP{err: errors.New("boom")})}, "encode text: boom"},
		{"second conditioning missing", combineNode{}, map[string]any{"conditioning_1": node.Conditioning{}}, "input conditioning_2: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.n.Execute(t.Context(), nil, tc.in)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
