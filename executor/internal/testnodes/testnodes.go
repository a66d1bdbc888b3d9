// Package testnodes is a registry of small node classes for the tests of
// the engine and the server: constants, arithmetic, lists, combos, custom
// validation, IS_CHANGED, a failing node and a slow one that reports
// progress. It is imported by tests only.
package testnodes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/node"
)

// funcNode is a test node class built from a spec and a function.
type funcNode struct {
	spec node.Spec
	fn   func(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error)
}

func (n *funcNode) Spec() node.Spec { return n.spec }
func (n *funcNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	return n.fn(ctx, env, in)
}

// validatedNode adds InputValidator.
type validatedNode struct {
	funcNode
	inputs []string
	check  func(map[string]any) error
}

func (n *validatedNode) ValidatedInputs() []string { return n.inputs }
func (n *validatedNode) SkipsTypeCheck() bool      { return false }
func (n *validatedNode) ValidateInputs(_ *node.Env, c map[string]any) error {
	return n.check(c)
}

// changedNode adds IsChanged.
type changedNode struct {
	funcNode
	key    string
	always bool
}

func (n *changedNode) IsChanged(*node.Env, map[string]any) (string, bool, error) {
	return n.key, n.always, nil
}

// Counter counts executions per class.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *Counter) inc(class string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[class]++
}

// Get returns how many times class executed.
func (c *Counter) Get(class string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[class]
}

// Registry returns a registry of the test node classes and the counter of
// their executions.
func Registry(t testing.TB) (*node.Registry, *Counter) {
	t.Helper()
	cnt := &Counter{}
	intIn := func(name string) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: int64(1), Min: node.F(0), Max: node.F(100)}
	}
	nodes := []node.Node{
		&funcNode{
			spec: node.Spec{Name: "TestConst", Inputs: []node.Input{intIn("value")}, Outputs: []node.Output{{Type: node.TypeInt}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestConst")
				v, err := node.Int(in, "value")
				return node.Result{Outputs: []any{v}}, err
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestAdd", Inputs: []node.Input{{Name: "a", Type: node.TypeInt}, {Name: "b", Type: node.TypeInt}},
				Outputs: []node.Output{{Type: node.TypeInt}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestAdd")
				a, err := node.Int(in, "a")
				if err != nil {
					return node.Result{}, err
				}
				b, err := node.Int(in, "b")
				return node.Result{Outputs: []any{a + b}}, err
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestOut", OutputNode: true, Inputs: []node.Input{{Name: "value", Type: "INT,FLOAT"}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestOut")
				return node.Result{UI: map[string][]any{"text": {fmt.Sprint(in["value"])}}}, nil
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestOpts", OutputNode: true, Inputs: []node.Input{
				{Name: "mode", Combo: []string{"a", "b"}},
				{Name: "strength", Type: node.TypeFloat, Default: 0.5, Min: node.F(0), Max: node.F(1)},
				{Name: "seed", Type: node.TypeInt, Min: node.F(0), Max: node.F(18446744073709551615), ControlAfterGenerate: true},
				{Name: "label", Type: node.TypeString, Optional: true},
				{Name: "flag", Type: node.TypeBoolean, Optional: true},
				{Name: "image", Type: node.TypeImage, Optional: true},
			}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestOpts")
				return node.Result{UI: map[string][]any{"seed": {in["seed"]}}}, nil
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestBigCombo", OutputNode: true, Inputs: []node.Input{{Name: "pick", Combo: bigCombo()}}},
			fn: func(context.Context, *node.Env, map[string]any) (node.Result, error) {
				return node.Result{}, nil
			},
		},
		&validatedNode{
			funcNode: funcNode{
				spec: node.Spec{Name: "TestValidated", OutputNode: true, Inputs: []node.Input{intIn("value")}},
				fn: func(context.Context, *node.Env, map[string]any) (node.Result, error) {
					cnt.inc("TestValidated")
					return node.Result{}, nil
				},
			},
			inputs: []string{"value"},
			check: func(c map[string]any) error {
				v, _ := node.Int(c, "value")
				if v == 13 {
					return errors.New("13 is unlucky")
				}
				if v == 66 {
					panic("validator bug")
				}
				return nil
			},
		},
		&changedNode{
			funcNode: funcNode{
				spec: node.Spec{Name: "TestAlways", Inputs: []node.Input{intIn("value")}, Outputs: []node.Output{{Type: node.TypeInt}}},
				fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
					cnt.inc("TestAlways")
					v, err := node.Int(in, "value")
					return node.Result{Outputs: []any{v}}, err
				},
			},
			always: true,
		},
		&funcNode{
			spec: node.Spec{Name: "TestUnique", NotIdempotent: true, Inputs: []node.Input{intIn("value")}, Outputs: []node.Output{{Type: node.TypeInt}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestUnique")
				v, err := node.Int(in, "value")
				return node.Result{Outputs: []any{v}}, err
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestList", Inputs: []node.Input{intIn("n")}, Outputs: []node.Output{{Type: node.TypeInt, IsList: true}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				n, _ := node.Int(in, "n")
				l := make([]any, n)
				for i := range l {
					l[i] = int64(i)
				}
				return node.Result{Outputs: []any{l}}, nil
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestSum", InputIsList: true, Inputs: []node.Input{{Name: "values", Type: node.TypeInt}}, Outputs: []node.Output{{Type: node.TypeInt}}},
			fn: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				var s int64
				for _, v := range in["values"].([]any) {
					s += v.(int64)
				}
				return node.Result{Outputs: []any{s}}, nil
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestFail", OutputNode: true, Inputs: []node.Input{intIn("value")}},
			fn: func(context.Context, *node.Env, map[string]any) (node.Result, error) {
				return node.Result{}, errors.New("boom")
			},
		},
		&funcNode{
			spec: node.Spec{Name: "TestSlow", Inputs: []node.Input{intIn("steps")}, Outputs: []node.Output{{Type: node.TypeInt}}},
			fn: func(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
				n, _ := node.Int(in, "steps")
				for i := 0; i < int(n); i++ {
					if err := env.CheckProgress(i+1, int(n)); err != nil {
						return node.Result{}, err
					}
					select {
					case <-ctx.Done():
						return node.Result{}, fmt.Errorf("sleep: %w", node.ErrInterrupted)
					case <-sleepTick():
					}
				}
				return node.Result{Outputs: []any{n}}, nil
			},
		},
	}
	reg, err := node.NewRegistry(nodes...)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	return reg, cnt
}

func bigCombo() []string {
	l := make([]string, 25)
	for i := range l {
		l[i] = fmt.Sprintf("opt%02d", i)
	}
	return l
}

func sleepTick() <-chan time.Time { return time.After(20 * time.Millisecond) }
