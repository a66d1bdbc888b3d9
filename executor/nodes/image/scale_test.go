package image

import (
	"context"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

func TestImageScaleNode(t *testing.T) {
	t.Parallel()
	src := node.NewImage(2, 30, 40, 3)
	for i := range src.Pix {
		src.Pix[i] = float32(i%5) / 4
	}
	tests := []struct {
		name          string
		width, height int64
		crop          string
		wantW, wantH  int
		same          bool
	}{
		{"both zero passes through", 0, 0, "disabled", 40, 30, true},
		{"width zero keeps aspect", 0, 15, "disabled", 20, 15, false},
		{"height zero keeps aspect", 10, 0, "disabled", 10, 8, false}, // 30·10/40 = 7.5 → 8 (half to even)
		{"height zero rounds half to even", 20, 0, "disabled", 20, 15, false},
		{"tiny keeps one pixel", 1, 0, "disabled", 1, 1, false},
		{"explicit", 64, 64, "center", 64, 64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := scaleNode{}.Execute(context.Background(), nil, map[string]any{
				"image": src, "upscale_method": "bilinear", "width": tt.width, "height": tt.height, "crop": tt.crop,
			})
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			out := res.Outputs[0].(*node.Image)
			if out.W != tt.wantW || out.H != tt.wantH || out.N != 2 || out.C != 3 {
				t.Fatalf("got %dx%d×%d, want %dx%d", out.W, out.H, out.N, tt.wantW, tt.wantH)
			}
			if (out == src) != tt.same {
				t.Fatalf("passthrough = %v, want %v", out == src, tt.same)
			}
		})
	}
}
