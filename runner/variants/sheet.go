package variants

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Contact sheet geometry, in pixels. basicfont.Face7x13 draws 7 px wide
// glyphs on 13 px lines.
const (
	glyphW  = 7
	lineH   = 13
	pad     = 6
	gap     = 4
	maxCell = 256
	minCell = 128
)

// Layout is the contact sheet's geometry: a label column on the left, a
// header of group and scheduler labels on top, and Rows × Cols cells of
// CellW × CellH.
type Layout struct {
	Rows, Cols     int
	CellW, CellH   int
	LabelW         int // width of the row-label column
	HeaderH        int // height of the column headers
	Width, Height  int
	groupHeader    bool
	cellsPerGroup  int
	groupSeparator int
}

// NewLayout returns the layout of a grid whose images are imgW × imgH
// (scaled down to fit maxCell px, small ones up by a whole factor to about
// minCell px).
func NewLayout(g Grid, imgW, imgH int) Layout {
	cw, ch := fit(imgW, imgH, maxCell)
	l := Layout{Rows: g.Rows(), Cols: g.Cols(), CellW: cw, CellH: ch, cellsPerGroup: max(1, g.Schedulers)}
	longest := 0
	for _, s := range g.RowLabels {
		longest = max(longest, len(s))
	}
	l.LabelW = longest*glyphW + 2*pad
	l.groupHeader = len(g.GroupLabels) > 1 || (len(g.GroupLabels) == 1 && g.GroupLabels[0] != "")
	lines := 1
	if l.groupHeader {
		lines = 2
	}
	l.HeaderH = lines*(lineH+2) + pad
	if len(g.GroupLabels) > 1 {
		l.groupSeparator = 2 * gap
	}
	groups := (l.Cols + l.cellsPerGroup - 1) / l.cellsPerGroup
	l.Width = l.LabelW + l.Cols*(l.CellW+gap) + (groups-1)*l.groupSeparator + pad
	l.Height = l.HeaderH + l.Rows*(l.CellH+gap) + pad
	return l
}

// Cell returns the rectangle of cell (row, col)'s image.
func (l Layout) Cell(row, col int) image.Rectangle {
	x := l.LabelW + col*(l.CellW+gap) + (col/l.cellsPerGroup)*l.groupSeparator
	y := l.HeaderH + row*(l.CellH+gap)
	return image.Rect(x, y, x+l.CellW, y+l.CellH)
}

// fit scales w × h to fit size, keeping the aspect ratio: down when
// larger, up by a whole factor while the longer side stays within
// minCell (small outputs stay readable and the captions fit).
func fit(w, h, size int) (int, int) {
	if w <= 0 || h <= 0 {
		return size, size
	}
	if w <= size && h <= size {
		k := max(1, minCell/max(w, h))
		return w * k, h * k
	}
	if w >= h {
		return size, max(1, h*size/w)
	}
	return max(1, w*size/h), size
}

// Sheet draws the contact sheet: images[i] is Points[i]'s output (nil when
// the case produced none: a grey cell marked "no image"). The cells take
// the size of the first image.
func Sheet(g Grid, images []image.Image) *image.NRGBA {
	imgW, imgH := maxCell, maxCell
	for _, im := range images {
		if im != nil {
			imgW, imgH = im.Bounds().Dx(), im.Bounds().Dy()
			break
		}
	}
	l := NewLayout(g, imgW, imgH)
	dst := image.NewNRGBA(image.Rect(0, 0, l.Width, l.Height))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	ink := image.NewUniform(color.Black)
	dim := image.NewUniform(color.NRGBA{0x55, 0x55, 0x55, 0xff})
	y := pad + lineH
	if l.groupHeader {
		for gi, label := range g.GroupLabels {
			r := l.Cell(0, gi*l.cellsPerGroup)
			text(dst, ink, r.Min.X, y, label, l.cellsPerGroup*(l.CellW+gap))
		}
		y += lineH + 2
	}
	for c, label := range g.ColLabels {
		r := l.Cell(0, c)
		text(dst, dim, r.Min.X, y, label, l.CellW)
	}
	for r, label := range g.RowLabels {
		cell := l.Cell(r, 0)
		text(dst, ink, pad, cell.Min.Y+cell.Dy()/2+lineH/2, label, l.LabelW-pad)
	}
	for i, p := range g.Points {
		r := l.Cell(p.Row, p.Col)
		var im image.Image
		if i < len(images) {
			im = images[i]
		}
		if im == nil {
			draw.Draw(dst, r, image.NewUniform(color.NRGBA{0xcc, 0xcc, 0xcc, 0xff}), image.Point{}, draw.Src)
			text(dst, ink, r.Min.X+pad, r.Min.Y+r.Dy()/2+lineH/2, "no image", r.Dx()-pad)
		} else if r.Dx() >= im.Bounds().Dx() {
			// Enlarged by a whole factor: keep the pixels sharp.
			xdraw.NearestNeighbor.Scale(dst, r, im, im.Bounds(), draw.Src, nil)
		} else {
			xdraw.CatmullRom.Scale(dst, r, im, im.Bounds(), draw.Src, nil)
		}
	}
	return dst
}

// text draws s with its baseline at (x, y), cut to fit width pixels.
func text(dst draw.Image, src image.Image, x, y int, s string, width int) {
	if n := width / glyphW; len(s) > n {
		if n <= 1 {
			return
		}
		s = s[:n-1] + "~"
	}
	d := font.Drawer{Dst: dst, Src: src, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
