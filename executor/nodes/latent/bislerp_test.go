package latent

import (
	"math"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

func TestBislerpTaps(t *testing.T) {
	t.Parallel()
	// 4 → 8: source positions (o+0.5)/2 − 0.5, clamped at 0.
	r, first, second := bislerpTaps(4, 8)
	wantR := []float64{0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0}
	wantF := []int{0, 0, 0, 1, 1, 2, 2, 3}
	wantS := []int{1, 1, 1, 2, 2, 3, 3, 3}
	if !slices.Equal(r, wantR) || !slices.Equal(first, wantF) || !slices.Equal(second, wantS) {
		t.Fatalf("taps %v %v %v", r, first, second)
	}
}

func TestSlerp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		b1, b2 []float64
		r      float64
		want   []float64
	}{
		{"orthogonal halfway", []float64{1, 0}, []float64{0, 1}, 0.5, []float64{math.Sqrt2 / 2, math.Sqrt2 / 2}},
		{"orthogonal, lengths interpolate", []float64{2, 0}, []float64{0, 4}, 0.5, []float64{3 * math.Sqrt2 / 2, 3 * math.Sqrt2 / 2}},
		{"parallel takes the first", []float64{1, 1}, []float64{3, 3}, 0.5, []float64{1, 1}},
		{"opposite blends linearly", []float64{1, 0}, []float64{-3, 0}, 0.25, []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := slerp(tc.b1, tc.b2, tc.r)
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestBislerp(t *testing.T) {
	t.Parallel()
	// Same size is the identity.
	src := node.NewTensor(1, 2, 3, 4)
	for i := range src.Data {
		src.Data[i] = float32(i%5) - 1.5
	}
	if got := bislerp(src, 4, 3); !slices.Equal(got.Data, src.Data) {
		t.Fatal("same-size bislerp is not the identity")
	}
	// Two channels at 90° between neighbours: the upscaled midpoints keep
	// the interpolated length (slerp), unlike bilinear, which shrinks it.
	two := &node.Tensor{Shape: []int{1, 2, 1, 2}, Data: []float32{1, 0, 0, 1}} // ch0: [1 0], ch1: [0 1]
	up := bislerp(two, 4, 1)
	if !slices.Equal(up.Shape, []int{1, 2, 1, 4}) {
		t.Fatalf("shape %v", up.Shape)
	}
	// Output column 1 sits at source 0.25: between (1,0) and (0,1).
	a, b := float64(up.Data[1]), float64(up.Data[4+1])
	if n := math.Hypot(a, b); math.Abs(n-1) > 1e-6 {
		t.Fatalf("norm %v at the slerped point, want 1", n)
	}
	if math.Abs(math.Atan2(b, a)-0.25*math.Pi/2) > 1e-6 {
		t.Fatalf("angle %v, want a quarter of the way", math.Atan2(b, a))
	}
	// Through the node, with a centre crop.
	l := nodetest.Exec(t, upscaleNode{}, nil, map[string]any{"samples": &node.Latent{Samples: node.NewTensor(1, 4, 8, 16)},
		"upscale_method": "bislerp", "width": int64(128), "height": int64(128), "crop": "center"})[0].(*node.Latent)
	if !slices.Equal(l.Samples.Shape, []int{1, 4, 16, 16}) {
		t.Fatalf("shape %v", l.Samples.Shape)
	}
}

func TestResizeBislerpCentreCrop(t *testing.T) {
	t.Parallel()
	// [1, 2, 4, 8] → 3×3: the centre crop to 1:1 keeps columns 2..5
	// (round((8 − 8·½)/2) = 2), then bislerp resizes the 4×4 planes.
	src := node.NewTensor(1, 2, 4, 8)
	for i := range src.Data {
		src.Data[i] = float32(i%7) - 2.5
	}
	crop := node.NewTensor(1, 2, 4, 4)
	for p := 0; p < 2; p++ {
		for y := 0; y < 4; y++ {
			copy(crop.Data[(p*4+y)*4:(p*4+y+1)*4], src.Data[(p*4+y)*8+2:(p*4+y)*8+6])
		}
	}
	tests := []struct {
		name string
		crop string
		want *node.Tensor
	}{
		{"center", "center", bislerp(crop, 3, 3)},
		{"disabled", "disabled", bislerp(src, 3, 3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := resize(src, 3, 3, "bislerp", tc.crop)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Shape, tc.want.Shape) || !slices.Equal(got.Data, tc.want.Data) {
				t.Fatalf("got %v %v, want %v %v", got.Shape, got.Data, tc.want.Shape, tc.want.Data)
			}
		})
	}
	if _, err := resize(src, 3, 3, "bislerp", "edges"); err == nil {
		t.Fatal("unknown crop: want an error")
	}
}
