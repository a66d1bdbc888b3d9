package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

func TestSaveImageWebsocketFrames(t *testing.T) {
	t.Parallel()
	type frame struct {
		typ     uint32
		payload []byte
	}
	var frames []frame
	var progress [][2]int
	env := &node.Env{
		Dirs:       node.Dirs{Output: t.TempDir()},
		SendBinary: func(typ uint32, p []byte) { frames = append(frames, frame{typ, append([]byte(nil), p...)}) },
		Progress:   func(v, m int) error { progress = append(progress, [2]int{v, m}); return nil },
	}
	images := gradientImage(2, 3, 5)
	res, err := websocketNode{}.Execute(context.Background(), env, map[string]any{"images": images})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if len(res.UI) != 0 || len(res.Outputs) != 0 {
		t.Fatalf("result = %+v, want empty", res)
	}
	if len(frames) != 2 || len(progress) != 2 || progress[1] != [2]int{1, 2} {
		t.Fatalf("%d frames, progress %v", len(frames), progress)
	}
	for i, f := range frames {
		if f.typ != node.BinaryPreviewImage {
			t.Fatalf("frame %d type %d, want %d", i, f.typ, node.BinaryPreviewImage)
		}
		if got := binary.BigEndian.Uint32(f.payload[:4]); got != node.FormatPNG {
			t.Fatalf("frame %d format %d, want 2 (PNG)", i, got)
		}
		want, err := pngmeta.Encode(images, i, nil, png.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.payload[4:], want) {
			t.Fatalf("frame %d is not sample %d as PNG", i, i)
		}
		m, err := png.Decode(bytes.NewReader(f.payload[4:]))
		if err != nil || m.Bounds().Dx() != 5 || m.Bounds().Dy() != 3 {
			t.Fatalf("frame %d: %v %v (resized?)", i, err, m.Bounds())
		}
		if text, _ := pngmeta.ReadText(bytes.NewReader(f.payload[4:])); len(text) != 0 {
			t.Fatalf("frame %d carries metadata %v", i, text)
		}
	}
	if got := listDir(t, env.Dirs.Output); len(got) != 0 {
		t.Fatalf("wrote files: %v", got)
	}
	if _, always, _ := (websocketNode{}).IsChanged(env, nil); !always {
		t.Fatalf("SaveImageWebsocket must always re-run")
	}
	// An interrupt reported through Progress stops the node.
	env.Progress = func(int, int) error { return node.ErrInterrupted }
	if _, err := (websocketNode{}).Execute(context.Background(), env, map[string]any{"images": images}); !errors.Is(err, node.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
}

func TestParseColor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    [3]float32
		wantErr bool
	}{
		{"#ff0000", [3]float32{1, 0, 0}, false},
		{"#00FF80", [3]float32{0, 1, 128.0 / 255}, false},
		{"#abc", [3]float32{0xaa / 255.0, 0xbb / 255.0, 0xcc / 255.0}, false},
		{" #123456 ", [3]float32{0x12 / 255.0, 0x34 / 255.0, 0x56 / 255.0}, false},
		{"ff0000", [3]float32{}, true},
		{"#ff00", [3]float32{}, true},
		{"#gg0000", [3]float32{}, true},
		{"red", [3]float32{}, true},
		{"#+f0000", [3]float32{}, true},
		{"", [3]float32{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseColor(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseColor(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			verr := solidColorNode{}.ValidateInputs(nil, map[string]any{"color": tt.in})
			if (verr != nil) != tt.wantErr {
				t.Fatalf("ValidateInputs = %v", verr)
			}
			if verr != nil && !strings.Contains(verr.Error(), "#rgb or #rrggbb") {
				t.Fatalf("unclear message: %v", verr)
			}
		})
	}
}

func TestSolidColorImage(t *testing.T) {
	t.Parallel()
	res, err := solidColorNode{}.Execute(context.Background(), nil, map[string]any{
		"width": int64(3), "height": int64(2), "batch_size": int64(2), "color": "#0080ff",
	})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	img := res.Outputs[0].(*node.Image)
	if img.N != 2 || img.H != 2 || img.W != 3 || img.C != 3 {
		t.Fatalf("shape %d×%d×%d×%d", img.N, img.H, img.W, img.C)
	}
	for i := 0; i < len(img.Pix); i += 3 {
		if img.Pix[i] != 0 || img.Pix[i+1] != 128.0/255 || img.Pix[i+2] != 1 {
			t.Fatalf("pixel %d = %v", i/3, img.Pix[i:i+3])
		}
	}
	// Saved, the colour survives exactly (x/255 → 255·x truncates back).
	data, err := pngmeta.Encode(img, 1, nil, png.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if got := nodetest.PixelRGBA(t, data, 2, 1); got != [4]uint8{0, 128, 255, 255} {
		t.Fatalf("saved pixel %v", got)
	}
	if _, err := (solidColorNode{}).Execute(context.Background(), nil, map[string]any{
		"width": int64(0), "height": int64(2), "batch_size": int64(1), "color": "#fff",
	}); err == nil {
		t.Fatalf("width 0 accepted")
	}
}

func TestImageInvertAndBatch(t *testing.T) {
	t.Parallel()
	a := gradientImage(1, 2, 2)
	res, err := invertNode{}.Execute(context.Background(), nil, map[string]any{"image": a})
	if err != nil {
		t.Fatal(err)
	}
	inv := res.Outputs[0].(*node.Image)
	for i := range a.Pix {
		if inv.Pix[i] != 1-a.Pix[i] {
			t.Fatalf("invert[%d] = %v", i, inv.Pix[i])
		}
	}
	tests := []struct {
		name    string
		b       *node.Image
		wantN   int
		wantErr bool
	}{
		{"same size", gradientImage(2, 2, 2), 3, false},
		{"resized", gradientImage(1, 4, 6), 2, false},
		{"channel mismatch", node.NewImage(1, 2, 2, 4), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := batchNode{}.Execute(context.Background(), nil, map[string]any{"image1": a, "image2": tt.b})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			out := res.Outputs[0].(*node.Image)
			if out.N != tt.wantN || out.W != 2 || out.H != 2 || len(out.Pix) != tt.wantN*12 {
				t.Fatalf("got N=%d %dx%d", out.N, out.W, out.H)
			}
			if !bytes.Equal(f32bytes(out.Pix[:12]), f32bytes(a.Pix)) {
				t.Fatalf("first sample is not image1")
			}
		})
	}
}

func f32bytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
