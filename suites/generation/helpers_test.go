package generation_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/harness/workflow"
)

// Node ids of the committed base graphs.
const (
	gmmPositive = "2" // txt2img-gmm / txt2img-els CLIPTextEncode (positive)
	gmmSampler  = "5" // txt2img-gmm / txt2img-els KSampler
	gmmLatent   = "4" // txt2img-gmm / txt2img-els EmptyLatentImage
	i2iLoad     = "4" // img2img LoadImage
	i2iSampler  = "7" // img2img KSampler
)

// loadPrompt reads a committed API-format workflow.
func loadPrompt(name string) workflow.Prompt {
	GinkgoHelper()
	data, err := os.ReadFile("../../fixtures/workflows/" + name)
	Expect(err).NotTo(HaveOccurred())
	p, err := workflow.ParsePrompt(data)
	Expect(err).NotTo(HaveOccurred())
	return p
}

// edit is one change to a prompt: node id, input name, value.
type edit struct {
	node, input string
	value       any
}

// with returns a copy of p with the edits applied; each edited input must
// exist already, so a renamed node id fails loudly instead of doing nothing.
func with(p workflow.Prompt, edits ...edit) workflow.Prompt {
	GinkgoHelper()
	out := p.Clone()
	for _, e := range edits {
		n, ok := out[e.node]
		Expect(ok).To(BeTrue(), "node %s", e.node)
		_, ok = n.Inputs[e.input]
		Expect(ok).To(BeTrue(), "input %s.%s", e.node, e.input)
		n.Inputs[e.input] = e.value
	}
	return out
}

// gmmBase is txt2img-gmm as committed (128×128, euler/normal, 12 steps).
func gmmBase() workflow.Prompt { return loadPrompt("txt2img-gmm.json") }

// img2imgBase is img2img with the uploaded scene.
func img2imgBase() workflow.Prompt {
	return with(loadPrompt("img2img.json"), edit{i2iLoad, "image", inputName})
}

// output is one generated image as the server saved it.
type output struct {
	ref    client.ImageRef
	png    []byte
	img    *image.NRGBA
	result *client.Result
}

// generate runs p, downloads its only saved image and decodes it.
func generate(ctx context.Context, p workflow.Prompt, clientID string) output {
	GinkgoHelper()
	o, err := tryGenerate(ctx, p, clientID)
	Expect(err).NotTo(HaveOccurred())
	return o
}

// tryGenerate is generate without assertions, for goroutines.
func tryGenerate(ctx context.Context, p workflow.Prompt, clientID string) (output, error) {
	res, err := cl.Run(ctx, p, client.RunOptions{ClientID: clientID, Timeout: runTimeout})
	if err != nil {
		return output{}, fmt.Errorf("run prompt: %w", err)
	}
	var refs []client.ImageRef
	for _, id := range sortedKeys(res.Outputs) {
		refs = append(refs, res.Outputs[id].Images...)
	}
	if len(refs) != 1 {
		return output{}, fmt.Errorf("run prompt: %d saved images, want 1", len(refs))
	}
	data, err := cl.View(ctx, refs[0])
	if err != nil {
		return output{}, fmt.Errorf("fetch image: %w", err)
	}
	img, err := decodePNG(data)
	if err != nil {
		return output{}, err
	}
	return output{ref: refs[0], png: data, img: img, result: res}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	p := make(workflow.Prompt, len(m))
	for k := range m {
		p[k] = nil
	}
	return p.IDs()
}

func decodePNG(data []byte) (*image.NRGBA, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode png: %w", err)
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out, nil
}

// meanAbsDiff is the mean absolute difference of two equally sized images
// over R, G and B, in 8-bit levels (0…255).
func meanAbsDiff(a, b *image.NRGBA) float64 {
	GinkgoHelper()
	Expect(b.Rect).To(Equal(a.Rect), "image sizes")
	var sum, n float64
	for i := 0; i < len(a.Pix); i += 4 {
		for c := range 3 {
			sum += math.Abs(float64(a.Pix[i+c]) - float64(b.Pix[i+c]))
			n++
		}
	}
	return sum / n
}

// maxAbsDiff is the largest absolute difference of any R, G or B sample.
func maxAbsDiff(a, b *image.NRGBA) int {
	m := 0
	for i := 0; i < len(a.Pix) && i < len(b.Pix); i += 4 {
		for c := range 3 {
			d := int(a.Pix[i+c]) - int(b.Pix[i+c])
			m = max(m, d, -d)
		}
	}
	return m
}

// samePixels reports whether two images have identical RGBA samples.
func samePixels(a, b *image.NRGBA) bool {
	return a.Rect == b.Rect && bytes.Equal(a.Pix, b.Pix)
}

// redness measures how red an image is: the fraction of reddish pixels
// (R above both G and B by more than 40 levels) and the mean OKLab a*
// (green−/red+ axis).
type redness struct {
	fraction float64
	meanA    float64
}

func measureRed(img *image.NRGBA) redness {
	var red, sumA, n float64
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, b := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
		if r-g > 40 && r-b > 40 {
			red++
		}
		_, a, _ := okLab(r, g, b)
		sumA += a
		n++
	}
	return redness{fraction: red / n, meanA: sumA / n}
}

// okLab converts 8-bit sRGB to OKLab (Björn Ottosson's published matrices).
func okLab(r8, g8, b8 int) (L, A, B float64) {
	lin := func(v int) float64 {
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	r, g, b := lin(r8), lin(g8), lin(b8)
	l := math.Cbrt(0.4122214708*r + 0.5363288687*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	L = 0.2104542553*l + 0.7936177850*m - 0.0040720468*s
	A = 1.9779984951*l - 2.4285922050*m + 0.4505937099*s
	B = 0.0259040371*l + 0.7827717662*m - 0.8086757660*s
	return L, A, B
}
