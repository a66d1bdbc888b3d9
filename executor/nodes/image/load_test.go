package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeImageAlphaToMask(t *testing.T) {
	t.Parallel()
	rgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	rgba.SetNRGBA(0, 0, color.NRGBA{R: 255, G: 0, B: 0, A: 255}) // opaque → mask 0
	rgba.SetNRGBA(1, 0, color.NRGBA{R: 10, G: 20, B: 30, A: 0})  // transparent → mask 1, colour kept
	rgba.SetNRGBA(2, 1, color.NRGBA{R: 0, G: 0, B: 255, A: 51})  // 0.2 alpha → mask 0.8
	rgb := image.NewRGBA(image.Rect(0, 0, 3, 2))
	draw.Draw(rgb, rgb.Bounds(), image.Black, image.Point{}, draw.Src) // opaque: written as RGB
	rgb.Set(2, 1, color.RGBA{R: 255, G: 128, B: 0, A: 255})
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{255, 255, 255, 255}})
	pal.SetColorIndex(1, 0, 1)
	deep := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	deep.SetNRGBA64(0, 0, color.NRGBA64{R: 65535, G: 32768, B: 1, A: 65535})

	tests := []struct {
		name       string
		data       []byte
		wantW      int
		wantMaskW  int
		checkPixel int // index into img.Pix
		wantPixel  float32
		checkMask  int
		wantMask   float32
	}{
		{"rgba", encodePNG(t, rgba), 3, 3, 3, 10.0 / 255, 1, 1},
		{"rgba partial alpha", encodePNG(t, rgba), 3, 3, 17, 1, 5, 1 - float32(51)/255},
		{"rgba opaque pixel", encodePNG(t, rgba), 3, 3, 0, 1, 0, 0},
		{"rgb has 64x64 zero mask", encodePNG(t, rgb), 3, 64, 16, 128.0 / 255, 4095, 0},
		{"palette with tRNS", encodePNG(t, pal), 2, 2, 3, 1, 0, 1},
		{"16-bit scales by 65535", encodePNG(t, deep), 1, 64, 1, 32768.0 / 65535, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.png")
			writeFile(t, path, tt.data)
			img, mask, err := DecodeFile(path)
			if err != nil {
				t.Fatalf("DecodeFile: %v", err)
			}
			if img.W != tt.wantW || img.C != 3 || img.N != 1 || mask.W != tt.wantMaskW || mask.N != 1 {
				t.Fatalf("image %dx%dx%d mask %dx%d", img.W, img.H, img.C, mask.W, mask.H)
			}
			if got := img.Pix[tt.checkPixel]; got != tt.wantPixel {
				t.Fatalf("pix[%d] = %v, want %v", tt.checkPixel, got, tt.wantPixel)
			}
			if got := mask.Pix[tt.checkMask]; got != tt.wantMask {
				t.Fatalf("mask[%d] = %v, want %v", tt.checkMask, got, tt.wantMask)
			}
		})
	}
}

// jpegWithOrientation encodes m as JPEG and inserts an EXIF APP1 segment
// with the given orientation (big- or little-endian TIFF).
func jpegWithOrientation(t testing.TB, m image.Image, orient uint16, bo binary.ByteOrder) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)       // one entry
	bo.PutUint16(tiff[10:], 0x0112) // Orientation
	bo.PutUint16(tiff[12:], 3)      // SHORT
	bo.PutUint32(tiff[14:], 1)      // count
	bo.PutUint16(tiff[18:], orient) // value
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	data := b.Bytes()
	out := append([]byte{}, data[:2]...)
	out = append(append(out, app1...), seg...)
	return append(out, data[2:]...)
}

func TestDecodeJPEGOrientation(t *testing.T) {
	t.Parallel()
	// 16×8 image: left half black, right half white; after a 90° rotation
	// it is 8×16 and the white half is at the bottom (6: clockwise) or the
	// top (8: counter-clockwise).
	src := image.NewGray(image.Rect(0, 0, 16, 8))
	for y := range 8 {
		for x := 8; x < 16; x++ {
			src.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	tests := []struct {
		name           string
		orient         uint16
		bo             binary.ByteOrder
		w, h           int
		whiteX, whiteY int // a pixel that must be white
		blackX, blackY int // and one that must be black
	}{
		{"none", 1, binary.BigEndian, 16, 8, 12, 4, 3, 4},
		{"mirror", 2, binary.BigEndian, 16, 8, 3, 4, 12, 4},
		{"rotate 180", 3, binary.LittleEndian, 16, 8, 3, 4, 12, 4},
		{"rotate cw", 6, binary.BigEndian, 8, 16, 4, 12, 4, 3},
		{"rotate ccw", 8, binary.LittleEndian, 8, 16, 4, 3, 4, 12},
		{"transpose", 5, binary.BigEndian, 8, 16, 4, 12, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.jpg")
			writeFile(t, path, jpegWithOrientation(t, src, tt.orient, tt.bo))
			img, mask, err := DecodeFile(path)
			if err != nil {
				t.Fatalf("DecodeFile: %v", err)
			}
			if img.W != tt.w || img.H != tt.h || mask.W != 64 {
				t.Fatalf("size %dx%d (mask %d), want %dx%d", img.W, img.H, mask.W, tt.w, tt.h)
			}
			if v := img.Pix[img.At(0, tt.whiteY, tt.whiteX)]; v < 0.9 {
				t.Fatalf("(%d,%d) = %v, want white", tt.whiteX, tt.whiteY, v)
			}
			if v := img.Pix[img.At(0, tt.blackY, tt.blackX)]; v > 0.1 {
				t.Fatalf("(%d,%d) = %v, want black", tt.blackX, tt.blackY, v)
			}
		})
	}
}

func TestDecodeGIFFrames(t *testing.T) {
	t.Parallel()
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 0, 0}}
	f0 := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	f1 := image.NewPaletted(image.Rect(1, 1, 3, 3), pal) // a sub-rectangle
	for i := range f1.Pix {
		f1.Pix[i] = 1
	}
	f1.SetColorIndex(2, 2, 2) // transparent: the red frame keeps frame 0 below
	g := &gif.GIF{Image: []*image.Paletted{f0, f1}, Delay: []int{0, 0}, Disposal: []byte{gif.DisposalNone, gif.DisposalNone},
		Config: image.Config{Width: 4, Height: 4, ColorModel: pal}}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.gif")
	writeFile(t, path, b.Bytes())
	img, mask, err := DecodeFile(path)
	if err != nil {
		t.Fatalf("DecodeFile: %v", err)
	}
	if img.N != 2 || img.W != 4 || img.H != 4 || mask.N != 2 {
		t.Fatalf("got %d frames %dx%d", img.N, img.W, img.H)
	}
	if r := img.Pix[img.At(1, 1, 1)]; r != 1 {
		t.Fatalf("frame 1 (1,1) red = %v, want 1", r)
	}
	if r := img.Pix[img.At(1, 2, 2)]; r != 0 {
		t.Fatalf("frame 1 (2,2) shows through to frame 0: red = %v, want 0", r)
	}
	if r := img.Pix[img.At(1, 0, 0)]; r != 0 {
		t.Fatalf("frame 1 (0,0) = %v, want frame 0's black", r)
	}
}

func TestDecodeSkipsFramesOfOtherSize(t *testing.T) {
	t.Parallel()
	mk := func(w int) decodedFrame { return decodedFrame{pix: make([]float32, w*2*3), w: w, h: 2} }
	img, mask, err := batchFrames([]decodedFrame{mk(3), mk(5), mk(3)})
	if err != nil {
		t.Fatal(err)
	}
	if img.N != 2 || img.W != 3 || mask.N != 2 || mask.W != 64 {
		t.Fatalf("got N=%d W=%d mask %d×%d", img.N, img.W, mask.N, mask.W)
	}
}

func TestDecodeRejectsUnknown(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.png")
	writeFile(t, path, []byte("not an image at all"))
	if _, _, err := DecodeFile(path); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := DecodeFile(filepath.Join(t.TempDir(), "missing.png")); err == nil {
		t.Fatalf("missing file decoded")
	}
}

func loadEnv(t testing.TB) *node.Env {
	t.Helper()
	return &node.Env{Dirs: node.Dirs{Input: t.TempDir(), Output: t.TempDir(), Temp: t.TempDir()}}
}

func TestLoadImageValidateInputs(t *testing.T) {
	t.Parallel()
	env := loadEnv(t)
	img := encodePNG(t, image.NewRGBA(image.Rect(0, 0, 2, 2)))
	writeFile(t, filepath.Join(env.Dirs.Input, "a.png"), img)
	writeFile(t, filepath.Join(env.Dirs.Input, "sub", "b.png"), img)
	writeFile(t, filepath.Join(env.Dirs.Output, "ComfyUI_00001_.png"), img)
	writeFile(t, filepath.Join(env.Dirs.Temp, "t.png"), img)
	writeFile(t, filepath.Join(filepath.Dir(env.Dirs.Input), "secret.png"), img)
	if err := os.Symlink(filepath.Join(filepath.Dir(env.Dirs.Input), "secret.png"), filepath.Join(env.Dirs.Input, "link.png")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, image, wantErr string
	}{
		{"plain", "a.png", ""},
		{"subfolder", "sub/b.png", ""},
		{"output annotation", "ComfyUI_00001_.png [output]", ""},
		{"temp annotation", "t.png [temp]", ""},
		{"input annotation", "a.png [input]", ""},
		{"missing", "nope.png", "Invalid image file: nope.png"},
		{"wrong folder", "a.png [output]", "Invalid image file: a.png [output]"},
		{"dot dot", "../secret.png", `".." is not allowed`},
		{"dot dot inside", "sub/../../secret.png", `".." is not allowed`},
		{"absolute", filepath.Join(filepath.Dir(env.Dirs.Input), "secret.png"), "absolute paths are not allowed"},
		{"directory", "sub", "Invalid image file: sub"},
		{"empty", "", "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := loadNode{}.ValidateInputs(env, map[string]any{"image": tt.image})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ValidateInputs(%q) = %v, want %q", tt.image, err, tt.wantErr)
			}
		})
	}
	// A symlink out of the input folder passes the existence check but
	// cannot be read.
	if _, err := (loadNode{}).Execute(context.Background(), env, map[string]any{"image": "link.png"}); err == nil {
		t.Fatalf("read through a symlink that escapes the input folder")
	}
}

func TestLoadImageExecuteAndIsChanged(t *testing.T) {
	t.Parallel()
	env := loadEnv(t)
	m := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	for i := range m.Pix {
		m.Pix[i] = 200
	}
	path := filepath.Join(env.Dirs.Input, "in.png")
	writeFile(t, path, encodePNG(t, m))
	n := loadNode{}
	consts := map[string]any{"image": "in.png"}
	key1, always, err := n.IsChanged(env, consts)
	if err != nil || always || len(key1) != 64 {
		t.Fatalf("IsChanged = %q, %v, %v", key1, always, err)
	}
	key1b, _, _ := n.IsChanged(env, consts)
	if key1b != key1 {
		t.Fatalf("IsChanged not stable: %s vs %s", key1, key1b)
	}
	res, err := n.Execute(context.Background(), env, consts)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	img, mask := res.Outputs[0].(*node.Image), res.Outputs[1].(*node.Mask)
	if img.W != 4 || img.H != 3 || img.Pix[0] != 200.0/255 || mask.W != 4 || mask.Pix[0] != 1-float32(200)/255 {
		t.Fatalf("img %dx%d pix %v mask %dx%d %v", img.W, img.H, img.Pix[0], mask.W, mask.H, mask.Pix[0])
	}
	m.Pix[0] = 7
	writeFile(t, path, encodePNG(t, m))
	key2, _, err := n.IsChanged(env, consts)
	if err != nil || key2 == key1 {
		t.Fatalf("IsChanged did not change with the file: %s, %v", key2, err)
	}
	if _, _, err := n.IsChanged(env, map[string]any{"image": "../x.png"}); err == nil {
		t.Fatalf("IsChanged accepted a traversal")
	}
}

// TestDecodeCommittedInputs loads the committed fixture images as LoadImage
// would: the scene is opaque (64×64 zero mask), the photo's vignette and
// notch become MASK = 1 − alpha.
func TestDecodeCommittedInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		w, h, maskW  int
		maskAt       [2]int // x, y
		wantMask     float32
		pixAt        [2]int
		wantR, wantG float32
	}{
		{"scene-256.png", 256, 256, 64, [2]int{0, 0}, 0, [2]int{72, 180}, 40.0 / 255, 160.0 / 255},
		{"photo-320x256.png", 320, 256, 320, [2]int{0, 0}, 1, [2]int{90, 170}, 200.0 / 255, 40.0 / 255},
		{"photo-320x256.png", 320, 256, 320, [2]int{160, 128}, 0, [2]int{220, 180}, 40.0 / 255, 70.0 / 255},
		{"photo-320x256.png", 320, 256, 320, [2]int{40, 32}, 1, [2]int{0, 255}, 110.0 / 255, 80.0 / 255},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			img, mask, err := DecodeFile(filepath.Join("..", "..", "..", "fixtures", "inputs", tt.file))
			if err != nil {
				t.Fatalf("DecodeFile: %v", err)
			}
			if img.W != tt.w || img.H != tt.h || mask.W != tt.maskW {
				t.Fatalf("image %dx%d mask %dx%d", img.W, img.H, mask.W, mask.H)
			}
			if got := mask.Pix[tt.maskAt[1]*mask.W+tt.maskAt[0]]; got != tt.wantMask {
				t.Fatalf("mask at %v = %v, want %v", tt.maskAt, got, tt.wantMask)
			}
			p := img.At(0, tt.pixAt[1], tt.pixAt[0])
			if img.Pix[p] != tt.wantR || img.Pix[p+1] != tt.wantG {
				t.Fatalf("pixel at %v = %v, want R %v G %v", tt.pixAt, img.Pix[p:p+3], tt.wantR, tt.wantG)
			}
		})
	}
}

func TestOrientAllEight(t *testing.T) {
	t.Parallel()
	// 3×2 source, red channel 1..6:  1 2 3 / 4 5 6.
	src := decodedFrame{pix: make([]float32, 18), alpha: make([]float32, 6), w: 3, h: 2}
	for i := range 6 {
		src.pix[3*i] = float32(i + 1)
		src.alpha[i] = float32(i + 1)
	}
	tests := []struct {
		o    int
		w, h int
		want []float32 // red channel, row-major
	}{
		{1, 3, 2, []float32{1, 2, 3, 4, 5, 6}},
		{2, 3, 2, []float32{3, 2, 1, 6, 5, 4}},
		{3, 3, 2, []float32{6, 5, 4, 3, 2, 1}},
		{4, 3, 2, []float32{4, 5, 6, 1, 2, 3}},
		{5, 2, 3, []float32{1, 4, 2, 5, 3, 6}},
		{6, 2, 3, []float32{4, 1, 5, 2, 6, 3}},
		{7, 2, 3, []float32{6, 3, 5, 2, 4, 1}},
		{8, 2, 3, []float32{3, 6, 2, 5, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.o), func(t *testing.T) {
			t.Parallel()
			got := orientFrame(src, tt.o)
			if got.w != tt.w || got.h != tt.h {
				t.Fatalf("size %dx%d, want %dx%d", got.w, got.h, tt.w, tt.h)
			}
			for i, v := range tt.want {
				if got.pix[3*i] != v || got.alpha[i] != v {
					t.Fatalf("pixel %d = %v (alpha %v), want %v", i, got.pix[3*i], got.alpha[i], v)
				}
			}
		})
	}
}

func TestDecodePNGExifOrientation(t *testing.T) {
	t.Parallel()
	m := image.NewRGBA(image.Rect(0, 0, 4, 2))
	draw.Draw(m, m.Bounds(), image.Black, image.Point{}, draw.Src)
	m.Set(3, 0, color.White) // top right
	data := encodePNG(t, m)
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	var chunk bytes.Buffer
	pngmeta.WriteChunk(&chunk, "eXIf", tiff)
	const ihdrEnd = 33
	data = append(append(append([]byte(nil), data[:ihdrEnd]...), chunk.Bytes()...), data[ihdrEnd:]...)
	path := filepath.Join(t.TempDir(), "o.png")
	writeFile(t, path, data)
	img, _, err := DecodeFile(path)
	if err != nil {
		t.Fatalf("DecodeFile: %v", err)
	}
	// Rotated 90° clockwise: 2×4, the top-right pixel lands bottom right.
	if img.W != 2 || img.H != 4 || img.Pix[img.At(0, 3, 1)] != 1 || img.Pix[img.At(0, 0, 1)] != 0 {
		t.Fatalf("got %dx%d", img.W, img.H)
	}
}
