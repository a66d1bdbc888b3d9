package node_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

// fakeModel is a MODEL value for the link tests.
type fakeModel struct{ hash string }

func (fakeModel) Predict(context.Context, *node.Tensor, float64, node.Cond) (*node.Tensor, error) {
	return nil, nil
}
func (fakeModel) SigmaTable() []float64 { return nil }
func (fakeModel) LatentChannels() int   { return 4 }
func (m fakeModel) Hash() string        { return m.hash }

// sigmas stands for a family's own link type (sampling.Sigmas).
type sigmas []float64

func TestReader(t *testing.T) {
	t.Parallel()
	img := node.NewImage(1, 2, 2, 3)
	lat := &node.Latent{Samples: node.NewTensor(1, 4, 2, 2)}
	cond := node.Conditioning{{Text: "red circle"}}
	tests := []struct {
		name    string
		in      map[string]any
		read    func(r *node.Reader) any
		want    any
		wantErr string // "" for none
	}{
		{"int literal", map[string]any{"steps": int64(20)},
			func(r *node.Reader) any { return r.Int("steps") }, int64(20), ""},
		{"int from a link (Go int)", map[string]any{"steps": 7},
			func(r *node.Reader) any { return r.Int("steps") }, int64(7), ""},
		{"int from a FLOAT link truncates", map[string]any{"steps": 7.9},
			func(r *node.Reader) any { return r.Int("steps") }, int64(7), ""},
		{"int seed above int64 clamps", map[string]any{"seed": uint64(1 << 63)},
			func(r *node.Reader) any { return r.Int("seed") }, int64(1<<63 - 1), ""},
		{"int missing", map[string]any{},
			func(r *node.Reader) any { return r.Int("steps") }, int64(0), "input steps: missing"},
		{"int wrong type", map[string]any{"steps": "20"},
			func(r *node.Reader) any { return r.Int("steps") }, int64(0), "input steps: got string, want INT"},
		{"int in range", map[string]any{"steps": int64(10000)},
			func(r *node.Reader) any { return r.IntIn("steps", 1, 10000) }, int64(10000), ""},
		{"int below range", map[string]any{"steps": int64(0)},
			func(r *node.Reader) any { return r.IntIn("steps", 1, 10000) }, int64(0), "input steps: 0 out of range 1..10000"},
		{"int above range", map[string]any{"steps": int64(11)},
			func(r *node.Reader) any { return r.IntIn("steps", 1, 10) }, int64(0), "input steps: 11 out of range 1..10"},
		{"uint seed", map[string]any{"seed": uint64(18446744073709551615)},
			func(r *node.Reader) any { return r.Uint("seed") }, uint64(18446744073709551615), ""},
		{"uint negative", map[string]any{"seed": int64(-1)},
			func(r *node.Reader) any { return r.Uint("seed") }, uint64(0), "input seed: -1 is negative"},
		{"float literal", map[string]any{"cfg": 7.5},
			func(r *node.Reader) any { return r.Float("cfg") }, 7.5, ""},
		{"float from an INT", map[string]any{"cfg": int64(8)},
			func(r *node.Reader) any { return r.Float("cfg") }, 8.0, ""},
		{"float wrong type", map[string]any{"cfg": true},
			func(r *node.Reader) any { return r.Float("cfg") }, 0.0, "input cfg: got bool, want FLOAT"},
		{"string", map[string]any{"scheduler": "karras"},
			func(r *node.Reader) any { return r.String("scheduler") }, "karras", ""},
		{"string missing", map[string]any{},
			func(r *node.Reader) any { return r.String("scheduler") }, "", "input scheduler: got <nil>, want STRING"},
		{"bool", map[string]any{"add_noise": true},
			func(r *node.Reader) any { return r.Bool("add_noise") }, true, ""},
		{"bool wrong type", map[string]any{"add_noise": "enable"},
			func(r *node.Reader) any { return r.Bool("add_noise") }, false, "input add_noise: got string, want BOOLEAN"},
		{"image link", map[string]any{"images": img},
			func(r *node.Reader) any { return r.Image("images") }, img, ""},
		{"image given a latent", map[string]any{"images": lat},
			func(r *node.Reader) any { return r.Image("images") }, (*node.Image)(nil), "input images: got *node.Latent, want *node.Image"},
		{"latent link", map[string]any{"samples": lat},
			func(r *node.Reader) any { return r.Latent("samples") }, lat, ""},
		{"latent missing", map[string]any{},
			func(r *node.Reader) any { return r.Latent("samples") }, (*node.Latent)(nil), "input samples: missing"},
		{"conditioning link", map[string]any{"positive": cond},
			func(r *node.Reader) any { return r.Conditioning("positive") }, cond, ""},
		{"model link through its interface", map[string]any{"model": fakeModel{"h"}},
			func(r *node.Reader) any { return r.Model("model") }, node.Model(fakeModel{"h"}), ""},
		{"model given a literal", map[string]any{"model": "v1-5.safetensors"},
			func(r *node.Reader) any { return r.Model("model") }, node.Model(nil), "input model: got string, want node.Model"},
		{"family link type", map[string]any{"sigmas": sigmas{2, 1, 0}},
			func(r *node.Reader) any { return node.Get[sigmas](r, "sigmas") }, sigmas{2, 1, 0}, ""},
		{"family link type mismatch", map[string]any{"sigmas": []float64{1}},
			func(r *node.Reader) any { return node.Get[sigmas](r, "sigmas") }, sigmas(nil), "input sigmas: got []float64, want node_test.sigmas"},
		{"optional int absent takes the default", map[string]any{},
			func(r *node.Reader) any { return r.OptionalInt("batch", 3) }, int64(3), ""},
		{"optional int present", map[string]any{"batch": int64(5)},
			func(r *node.Reader) any { return r.OptionalInt("batch", 3) }, int64(5), ""},
		{"optional int present with the wrong type", map[string]any{"batch": "5"},
			func(r *node.Reader) any { return r.OptionalInt("batch", 3) }, int64(0), "input batch: got string, want INT"},
		{"optional float absent", map[string]any{},
			func(r *node.Reader) any { return r.OptionalFloat("denoise", 1) }, 1.0, ""},
		{"optional string absent", map[string]any{},
			func(r *node.Reader) any { return r.OptionalString("crop", "disabled") }, "disabled", ""},
		{"optional bool present", map[string]any{"tiled": false},
			func(r *node.Reader) any { return r.OptionalBool("tiled", true) }, false, ""},
		{"optional link absent", map[string]any{},
			func(r *node.Reader) any { m, ok := node.Optional[*node.Mask](r, "mask"); return []any{m, ok} },
			[]any{(*node.Mask)(nil), false}, ""},
		{"optional link present", map[string]any{"mask": &node.Mask{N: 1}},
			func(r *node.Reader) any { m, ok := node.Optional[*node.Mask](r, "mask"); return []any{m, ok} },
			[]any{&node.Mask{N: 1}, true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := node.Inputs(tc.in)
			got := tc.read(r)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("value = %#v, want %#v", got, tc.want)
			}
			err := r.Err()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Err() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Errorf("Err() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestReaderFirstErrorWins checks that the first failing read is the one
// reported, that later reads return zero values without overwriting it,
// and that Fail only records an error when none is recorded yet.
func TestReaderFirstErrorWins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      map[string]any
		fail    error // passed to Fail after the reads
		wantErr string
		wantCFG float64
	}{
		{"all good", map[string]any{"steps": int64(4), "cfg": 2.5, "sampler_name": "euler"}, nil, "", 2.5},
		{"first of two errors", map[string]any{"steps": "x", "cfg": 2.5}, nil, "input steps: got string, want INT", 0},
		{"a later read after an error returns zero", map[string]any{"cfg": 2.5, "sampler_name": "euler"}, nil, "input steps: missing", 0},
		{"Fail after good reads", map[string]any{"steps": int64(4), "cfg": 2.5, "sampler_name": "euler"},
			errors.New("latent add: 3 channels vs 4"), "latent add: 3 channels vs 4", 2.5},
		{"Fail does not hide a read error", map[string]any{"cfg": 2.5, "sampler_name": "euler"},
			errors.New("latent add: 3 channels vs 4"), "input steps: missing", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := node.Inputs(tc.in)
			_ = r.Int("steps")
			cfg := r.Float("cfg")
			_ = r.String("sampler_name")
			r.Fail(nil) // ignored
			r.Fail(tc.fail)
			if cfg != tc.wantCFG {
				t.Errorf("cfg = %v, want %v", cfg, tc.wantCFG)
			}
			err := r.Err()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Err() = %v, want %q", err, tc.wantErr)
			}
			if tc.fail == nil && !strings.HasPrefix(err.Error(), "input ") {
				t.Errorf("Err() = %v, want it to name the input", err)
			}
		})
	}
}

func TestReaderHas(t *testing.T) {
	t.Parallel()
	r := node.Inputs(map[string]any{"present": nil, "value": int64(1)})
	for _, tc := range []struct {
		name string
		want bool
	}{{"present", true}, {"value", true}, {"absent", false}} {
		if got := r.Has(tc.name); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
