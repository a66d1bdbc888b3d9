package conformance

import (
	"image"
	"image/color"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Uploads and /view (ComfyUI 0.33.0 server.py image_upload, view_image).
var _ = Describe("Uploads and /view", func() {
	It("stores an upload in input and serves it back byte for byte", func() {
		data := encodePNG(pattern(3, 2, 5))
		name := "regen-conformance-" + srv.run + "-up.png"
		code, m := srv.Upload(name, data, nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(m).To(Equal(map[string]any{"name": name, "subfolder": "", "type": "input"}))
		Expect(srv.View(ref(m), "")).To(Equal(data))
	})

	It("keeps the name for the same content and numbers a different one", func() {
		name := "regen-conformance-" + srv.run + "-dup.png"
		a, b := encodePNG(pattern(2, 2, 1)), encodePNG(pattern(2, 2, 2))
		code, m := srv.Upload(name, a, nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(m["name"]).To(Equal(name))
		_, m = srv.Upload(name, a, nil)
		Expect(m["name"]).To(Equal(name), "same content: not renamed")
		_, m = srv.Upload(name, b, nil)
		Expect(m["name"]).To(Equal("regen-conformance-" + srv.run + "-dup (1).png"))
		_, m = srv.Upload(name, b, map[string]string{"overwrite": "true"})
		Expect(m["name"]).To(Equal(name), "overwrite keeps the name")
		Expect(srv.View(ref(m), "")).To(Equal(b))
	})

	It("puts an upload in its subfolder", func() {
		data := encodePNG(pattern(2, 2, 3))
		name := "regen-conformance-" + srv.run + "-sub.png"
		code, m := srv.Upload(name, data, map[string]string{"subfolder": "regen-conformance"})
		Expect(code).To(Equal(http.StatusOK))
		Expect(m).To(Equal(map[string]any{"name": name, "subfolder": "regen-conformance", "type": "input"}))
		Expect(srv.View(ref(m), "")).To(Equal(data))
	})

	It("refuses an upload whose name climbs out of the folder", func() {
		code, _ := srv.Upload("../regen-conformance-"+srv.run+"-escape.png", encodePNG(pattern(1, 1, 0)), nil)
		Expect(code).To(Equal(http.StatusBadRequest))
	})

	DescribeTable("/view refuses",
		func(query string, want int) {
			code, _ := srv.Get("/view?" + query)
			Expect(code).To(Equal(want))
		},
		Entry("a missing file with 404", "filename=regen-conformance-none.png&type=input", http.StatusNotFound),
		Entry("a name with .. with 400", "filename=../x.png&type=input", http.StatusBadRequest),
		Entry("an absolute name with 400", "filename=/etc/passwd&type=input", http.StatusBadRequest),
	)

	It("answers channel=a on an RGB image with an opaque RGBA PNG", func() {
		name := srv.input("chan-a", pattern(3, 3, 7))
		out := decodePNG(srv.View(map[string]any{"filename": name, "subfolder": "", "type": "input"}, "&channel=a"))
		_, isNRGBA := out.(*image.NRGBA)
		_, isRGBA := out.(*image.RGBA)
		Expect(isNRGBA || isRGBA).To(BeTrue(), "an RGBA PNG, got %T", out)
		Expect(out.Bounds().Size()).To(Equal(image.Pt(3, 3)))
		for y := range 3 {
			for x := range 3 {
				Expect(nrgba(out, x, y).A).To(Equal(uint8(255)))
			}
		}
	})

	It("answers channel=a with the alpha and channel=rgb without it", func() {
		src := image.NewNRGBA(image.Rect(0, 0, 2, 1))
		src.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 40})
		src.SetNRGBA(1, 0, color.NRGBA{50, 60, 70, 200})
		name := srv.input("chan-rgba", src)
		ref := map[string]any{"filename": name, "subfolder": "", "type": "input"}
		a := decodePNG(srv.View(ref, "&channel=a"))
		Expect(nrgba(a, 0, 0).A).To(Equal(uint8(40)))
		Expect(nrgba(a, 1, 0).A).To(Equal(uint8(200)))
		rgb := decodePNG(srv.View(ref, "&channel=rgb"))
		Expect(nrgba(rgb, 0, 0)).To(Equal(color.NRGBA{10, 20, 30, 255}))
		Expect(nrgba(rgb, 1, 0)).To(Equal(color.NRGBA{50, 60, 70, 255}))
	})
})

// ref turns an /upload/image answer into a /view reference.
func ref(upload map[string]any) map[string]any {
	return map[string]any{"filename": upload["name"], "subfolder": upload["subfolder"], "type": upload["type"]}
}
