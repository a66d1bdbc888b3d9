package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"io"

	"github.com/vitali-fedulov/images4"
)

// RecordVersion is the version of the Record format this package writes.
const RecordVersion = 1

// Record is everything tiers 0–3 need to judge an image without its PNG:
// a golden's record is stored next to it, in git.
type Record struct {
	Version int    `json:"version"`
	SHA256  string `json:"sha256"` // of the decoded 8-bit NRGBA pixels
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	// Provenance is read from the PNG "prompt" chunk; nil when absent.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Icon is images4.Icon (stretched), IconRaw images4.IconNN.
	Icon    Icon        `json:"icon"`
	IconRaw Icon        `json:"icon_raw"`
	DCTHash string      `json:"dct_hash"` // 256 bits, 64 hex digits
	Colour  ColourStats `json:"colour"`
	// Fingerprint describes the environment that made the image (backend,
	// device, executor version); free-form, set by the caller.
	Fingerprint map[string]string `json:"fingerprint,omitempty"`
	// Thresholds are this golden's calibrated thresholds; nil means the
	// defaults.
	Thresholds *Thresholds `json:"thresholds,omitempty"`
}

// analysed is an image with its record and the pixels tier 4 needs.
type analysed struct {
	rec *Record
	px  *image.NRGBA // nil when judged from a record alone
}

// NewRecord summarises img; pngBytes (optional) is the file it was decoded
// from, read for its "prompt" metadata.
func NewRecord(img image.Image, pngBytes []byte) (*Record, error) {
	a, err := analyse(img, pngBytes)
	if err != nil {
		return nil, err
	}
	return a.rec, nil
}

func analyse(img image.Image, pngBytes []byte) (*analysed, error) {
	return analyseNRGBA(toNRGBA(img), pngBytes)
}

// analyseNRGBA is analyse of pixels already normalised by toNRGBA: one
// pass over them (scan) for the colour and level statistics and the hash's
// thumbnail, one sampling for both icons.
func analyseNRGBA(px *image.NRGBA, pngBytes []byte) (*analysed, error) {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("analyse image: empty (%d×%d)", w, h)
	}
	prov, err := provenanceFromPNG(pngBytes)
	if err != nil {
		return nil, fmt.Errorf("read provenance: %w", err)
	}
	a, _ := analysePixels(px, pixelSHA256(px), prov, nil, Thresholds{})
	return a, nil
}

// analysePixels builds the record of px, whose pixel hash is sum; given
// golden, it measures tier 4 of px against it in the same pass.
func analysePixels(px *image.NRGBA, sum string, prov *Provenance, golden *image.NRGBA, th Thresholds) (*analysed, *localStats) {
	s, loc := scanAgainst(px, golden, th)
	icon, iconRaw := icons(px)
	return &analysed{rec: newRecord(px, sum, prov, s, icon, iconRaw), px: px}, loc
}

// newRecord is the record of px from its pixel hash sum, its provenance,
// its scan and its icons.
func newRecord(px *image.NRGBA, sum string, prov *Provenance, s *scanned, icon, iconRaw images4.IconT) *Record {
	rec := &Record{
		Version:    RecordVersion,
		SHA256:     sum,
		Width:      px.Rect.Dx(),
		Height:     px.Rect.Dy(),
		Provenance: prov,
		Icon:       Icon{icon},
		IconRaw:    Icon{iconRaw},
		DCTHash:    dctHashThumb(s.thumb),
		Colour:     s.colour,
	}
	rec.Colour.Levels = s.levels
	return rec
}

// Validate checks that a record (typically read from disk) is complete.
func (r *Record) Validate() error {
	iconLen := 3 * images4.IconSize * images4.IconSize
	switch {
	case r.Version != RecordVersion:
		return fmt.Errorf("validate record: version %d, want %d", r.Version, RecordVersion)
	case len(r.SHA256) != 64:
		return fmt.Errorf("validate record: sha256 %q is not 64 hex digits", r.SHA256)
	case r.Width <= 0 || r.Height <= 0:
		return fmt.Errorf("validate record: size %d×%d", r.Width, r.Height)
	case len(r.Icon.Pixels) != iconLen || len(r.IconRaw.Pixels) != iconLen:
		return fmt.Errorf("validate record: icons must have %d values", iconLen)
	case len(r.DCTHash) != HashBits/4:
		return fmt.Errorf("validate record: dct_hash must be %d hex digits", HashBits/4)
	case len(r.Colour.Grid) != gridSize*gridSize:
		return fmt.Errorf("validate record: colour grid must have %d cells", gridSize*gridSize)
	case r.Colour.Levels != nil && len(r.Colour.Levels.Grid) != gridSize*gridSize:
		return fmt.Errorf("validate record: levels grid must have %d cells", gridSize*gridSize)
	}
	if r.Thresholds != nil {
		if err := r.Thresholds.Validate(); err != nil {
			return fmt.Errorf("validate record: %w", err)
		}
	}
	return nil
}

// ReadRecord decodes and validates a record.
func ReadRecord(r io.Reader) (*Record, error) {
	var rec Record
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return &rec, nil
}

// MarshalIndent renders the record as indented JSON with a final newline,
// the form committed next to a golden.
func (r *Record) MarshalIndent() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return buf.Bytes(), nil
}
