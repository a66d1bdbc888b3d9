package executor_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
)

// runCounter counts executions per class (the websocket is the primary
// witness; this is a second one).
type runCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *runCounter) inc(class string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[class]++
}

func (c *runCounter) get(class string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[class]
}

type testNode struct {
	spec node.Spec
	run  func(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error)
}

func (n *testNode) Spec() node.Spec { return n.spec }
func (n *testNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	return n.run(ctx, env, in)
}

// alwaysChanged is a node whose IS_CHANGED is NaN: it runs every time.
type alwaysChanged struct{ testNode }

func (alwaysChanged) IsChanged(*node.Env, map[string]any) (string, bool, error) { return "", true, nil }

// testPack returns the test node classes (ComfyUI's testing-pack in
// spirit) plus the built-in image nodes that exist, and the run counter.
func testPack() ([]node.Node, *runCounter) {
	cnt := &runCounter{n: map[string]int{}}
	intIn := func(name string, def int64) node.Input {
		return node.Input{Name: name, Type: node.TypeInt, Default: def, Min: node.F(0), Max: node.F(node.MaxResolution)}
	}
	pack := []node.Node{
		&testNode{
			spec: node.Spec{Name: "StubImage", Category: "Testing/Stub Nodes", Description: "A constant image.",
				Inputs: []node.Input{
					{Name: "content", Combo: []string{"WHITE", "BLACK", "NOISE"}},
					intIn("height", 16), intIn("width", 16), intIn("batch_size", 1),
				},
				Outputs: []node.Output{{Type: node.TypeImage}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("StubImage")
				h, _ := node.Int(in, "height")
				w, _ := node.Int(in, "width")
				b, _ := node.Int(in, "batch_size")
				c, _ := node.String(in, "content")
				img := node.NewImage(int(b), int(h), int(w), 3)
				for i := range img.Pix {
					switch c {
					case "WHITE":
						img.Pix[i] = 1
					case "NOISE":
						img.Pix[i] = float32((i*7919)%255) / 255
					}
				}
				return node.Result{Outputs: []any{img}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestInvert", Inputs: []node.Input{{Name: "image", Type: node.TypeImage}},
				Outputs: []node.Output{{Type: node.TypeImage}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestInvert")
				src, err := node.As[*node.Image](in, "image")
				if err != nil {
					return node.Result{}, err
				}
				out := node.NewImage(src.N, src.H, src.W, src.C)
				for i, v := range src.Pix {
					out.Pix[i] = 1 - v
				}
				return node.Result{Outputs: []any{out}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestSavePNG", OutputNode: true, Category: "Testing",
				Inputs: []node.Input{{Name: "images", Type: node.TypeImage}, {Name: "filename_prefix", Type: node.TypeString, Default: "test"}},
				Hidden: []node.HiddenInput{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo}}},
			run: func(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestSavePNG")
				img, err := node.As[*node.Image](in, "images")
				if err != nil {
					return node.Result{}, err
				}
				prefix, _ := node.String(in, "filename_prefix")
				var refs []any
				for b := 0; b < img.N; b++ {
					name := fmt.Sprintf("%s_%05d_.png", prefix, cnt.get("TestSavePNG")*100+b)
					if err := savePNG(filepath.Join(env.Dirs.Output, name), img, b); err != nil {
						return node.Result{}, err
					}
					refs = append(refs, node.ImageRef{Filename: name, Subfolder: "", Type: "output"})
				}
				return node.Result{UI: map[string][]any{"images": refs}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestIntOut", OutputNode: true, Inputs: []node.Input{{Name: "value", Type: node.TypeAny}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestIntOut")
				return node.Result{UI: map[string][]any{"text": {fmt.Sprint(in["value"])}}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestConst", Inputs: []node.Input{{Name: "value", Type: node.TypeInt, Min: node.F(0), Max: node.F(1000)}},
				Outputs: []node.Output{{Type: node.TypeInt}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestConst")
				v, err := node.Int(in, "value")
				return node.Result{Outputs: []any{v}}, err
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestAddInts", Inputs: []node.Input{{Name: "a", Type: node.TypeInt}, {Name: "b", Type: node.TypeInt, Optional: true}},
				Outputs: []node.Output{{Type: node.TypeInt}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestAddInts")
				a, err := node.Int(in, "a")
				if err != nil {
					return node.Result{}, err
				}
				b, _ := node.Int(in, "b")
				return node.Result{Outputs: []any{a + b}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestRaise", Inputs: []node.Input{{Name: "value", Type: node.TypeAny}}, Outputs: []node.Output{{Type: node.TypeInt}}},
			run: func(context.Context, *node.Env, map[string]any) (node.Result, error) {
				cnt.inc("TestRaise")
				return node.Result{}, errors.New("raised on purpose")
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestIntList", Inputs: []node.Input{intIn("count", 3)}, Outputs: []node.Output{{Type: node.TypeInt, IsList: true}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				n, _ := node.Int(in, "count")
				l := make([]any, n)
				for i := range l {
					l[i] = int64(i * 10)
				}
				return node.Result{Outputs: []any{l}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestPreview", OutputNode: true, Inputs: []node.Input{{Name: "value", Type: node.TypeAny}}},
			run: func(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
				// A preview frame: 4-byte format code (PNG), then the bytes.
				env.SendBinary(node.BinaryPreviewImage, append([]byte{0, 0, 0, node.FormatPNG}, []byte("\x89PNG-preview")...))
				return node.Result{}, nil
			},
		},
		&alwaysChanged{testNode{
			spec: node.Spec{Name: "TestNoise", Inputs: []node.Input{intIn("value", 0)}, Outputs: []node.Output{{Type: node.TypeInt}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestNoise")
				v, err := node.Int(in, "value")
				return node.Result{Outputs: []any{v}}, err
			},
		}},
		&testNode{
			spec: node.Spec{Name: "TestSlow", Inputs: []node.Input{intIn("steps", 10), intIn("ms", 20)},
				Outputs: []node.Output{{Type: node.TypeInt}}},
			run: func(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
				cnt.inc("TestSlow")
				steps, _ := node.Int(in, "steps")
				ms, _ := node.Int(in, "ms")
				for i := 0; i < int(steps); i++ {
					select {
					case <-ctx.Done():
						return node.Result{}, fmt.Errorf("sleep: %w", node.ErrInterrupted)
					case <-time.After(time.Duration(ms) * time.Millisecond):
					}
					if err := env.Progress(i+1, int(steps)); err != nil {
						return node.Result{}, err
					}
				}
				return node.Result{Outputs: []any{steps}}, nil
			},
		},
		&testNode{
			spec: node.Spec{Name: "TestLoadName", OutputNode: true, Inputs: []node.Input{{Name: "image", ComboFolder: "input", ImageUpload: true}}},
			run: func(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
				return node.Result{UI: map[string][]any{"text": {in["image"]}}}, nil
			},
		},
	}
	have := map[string]bool{}
	for _, n := range pack {
		have[n.Spec().Name] = true
	}
	for _, n := range nodes.Builtin() {
		if s := n.Spec(); s.Category == "image" || s.Name == "SaveImage" || s.Name == "LoadImage" || s.Name == "PreviewImage" {
			if !have[s.Name] {
				pack = append(pack, n)
				have[s.Name] = true
			}
		}
	}
	return pack, cnt
}

// savePNG writes sample b of img as an 8-bit PNG, via a temp file and
// rename.
func savePNG(path string, img *node.Image, b int) error {
	out := image.NewNRGBA(image.Rect(0, 0, img.W, img.H))
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			i := img.At(b, y, x)
			out.SetNRGBA(x, y, color.NRGBA{R: uint8(255 * img.Pix[i]), G: uint8(255 * img.Pix[i+1]), B: uint8(255 * img.Pix[i+2]), A: 255})
		}
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if err := png.Encode(f, out); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	return os.Rename(tmp, path)
}
