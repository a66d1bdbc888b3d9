package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Thresholds are the limits of every gated metric. A metric passes when it
// is at most its threshold. They are data: DefaultThresholds gives the
// calibrated defaults, a golden's record may carry its own, and a JSON file
// may override any subset (LoadThresholds).
type Thresholds struct {
	// Colour tier, ΔE = 100 × Euclidean distance in OKLab.

	// ColourMean bounds the ΔE between the whole-image OKLab means.
	ColourMean float64 `json:"colour_mean_delta_e"`
	// ColourCast bounds the systematic colour drift over the 4×4 grid: the
	// per-cell median of the lightness, chroma and hue (tangential) change
	// of the cell means, combined as a ΔE. A cast, a gain or a hue rotation
	// moves every cell the same way; a moved edge or a small object moves
	// a few cells in random directions and leaves the median alone.
	ColourCast float64 `json:"colour_cast_delta_e"`
	// AlphaMean bounds the change of the whole-image mean alpha, in
	// percent of full opacity (1 ≈ 2.5 levels); measured only when a side
	// is not fully opaque. Alpha is invisible to OKLab: it is a channel of
	// its own in every tier.
	AlphaMean float64 `json:"alpha_mean_delta"`
	// AlphaCell bounds the worst change of a grid cell's mean alpha, in
	// percent of full opacity. Loose, like ColourCell: a small hole
	// punched in one cell is the local tier's.
	AlphaCell float64 `json:"alpha_cell_delta"`
	// BiasZ bounds the systematic shift of one channel (R, G, B or alpha,
	// 8-bit levels) over the 4×4 grid: the mean signed change of the cell
	// means against its spread, z = mean / (std / √16). A gain, a cast or
	// an offset moves every cell the same way; benign noise (jitter,
	// ±1 LSB) scatters around 0 (|z| < 1 on the synthetic images). A
	// channel is only measured when its cells moved by at least
	// BiasMinLevels on average. A tier tripped by this metric alone ranks
	// below every other tier (see precedence).
	BiasZ float64 `json:"bias_z"`
	// BiasMinLevels is that floor, in 8-bit levels: above the half level
	// by which re-quantising a flat channel (float jitter on a solid
	// colour) can move its mean, below the level by which a 2 % gain
	// moves a dark channel (≥ 25 levels) once rounded.
	BiasMinLevels float64 `json:"bias_min_levels"`
	// DriftZ bounds the pixel-level sign test of one colour channel (R, G
	// or B): among the pixels whose level changed, on a level edge of the
	// golden's channel and not clipped at 0 or 255 there (see
	// localStats.countDrift), z = (up − down) / √(up + down). Noise that
	// is symmetric in the levels (±1 LSB, float re-quantisation, atomics'
	// combine order) has |z| of a few units at any size; a gain, a cast or
	// a hue rotation moves nearly every changed pixel of a channel the
	// same way, even where it moves the cell means by a fraction of a
	// level (a 2 % red gain on a near-white image, a 3° hue rotation of a
	// nearly grey one), and gives |z| ≥ 22 on every fixture golden. The
	// channel is only measured when up − down is at least DriftMinRatio
	// of the image's pixels. Weak, like BiasZ: a 1 px shift of a gradient
	// also moves pixels one way, and local names it.
	DriftZ float64 `json:"drift_z"`
	// DriftMinRatio is that floor, a fraction of the image's pixels: a
	// small asymmetry of benign jitter over a large image is significant
	// yet harmless, and a 0.5 % patch filled one way is the local tier's.
	// The hue and gain controls move ≥ 3.8 % of the pixels net one way
	// (2.5× the default); a patch of 1 % of the image at most 1 %.
	DriftMinRatio float64 `json:"drift_min_ratio"`
	// ColourCell bounds the worst ΔE between the means of one grid cell. It
	// is looser than the others: the means of a 64 px cell also move when
	// a high-contrast edge crosses its border (a 2 px shift moves them by
	// up to 0.7) or a small object appears in it (a 1 % patch: up to 3),
	// and those are local regressions.
	ColourCell float64 `json:"colour_cell_delta_e"`

	// Structure tier. Icon metrics are images4.EucMetric values: the sum
	// over the 11×11 icon of squared differences in 8-bit levels (images4's
	// own Similar accepts Y < 60500, Cb/Cr < 121000).

	// IconY and IconCbCr bound EucMetric on the stretched images4.Icon.
	IconY    float64 `json:"icon_y"`
	IconCbCr float64 `json:"icon_cbcr"`
	// IconMinRange is the dynamic range, in 8-bit levels, that a channel
	// of the unstretched icon (images4.IconNN) must span on both sides for
	// that channel's stretched-icon metric to be gated. images4.Icon
	// stretches each channel to 0–255, a gain of 255/range: on a flat
	// image (a solid colour, a faint gradient, the chroma of a grey
	// image) it turns ±1 level of float jitter into full-scale structure.
	// Below the range the metric is still recorded but not gated, and the
	// raw icon, the DCT hash and the local tier judge the image. Absent
	// from JSON (records written before it existed) means the default; 0
	// gates always.
	IconMinRange float64 `json:"icon_min_range"`
	// RawIconY and RawIconCbCr bound EucMetric on the unstretched
	// images4.IconNN, which keeps global brightness and contrast.
	RawIconY    float64 `json:"raw_icon_y"`
	RawIconCbCr float64 `json:"raw_icon_cbcr"`
	// HashBits bounds the Hamming distance of the 256-bit DCT hashes.
	// Unrelated images differ in 128 ± 8 bits. On smooth images many AC
	// coefficients sit near the median, so a small high-contrast object
	// can flip 50–90 bits: the default only trips on a new composition.
	// On a flat image (luma range under IconMinRange) the coefficients
	// are all ≈ 0 and ±1 LSB noise flips ~110 bits, so it is not gated.
	HashBits int `json:"hash_bits"`

	// Local tier.

	// PixelDeltaE marks a pixel as changed when its ΔE exceeds it...
	PixelDeltaE float64 `json:"pixel_delta_e"`
	// PixelMinLSB ...and some 8-bit channel moved by at least this many
	// levels. The second condition keeps one-level quantisation flips out
	// of the mask: near black a single level is ΔE ≈ 7 in OKLab, because of
	// the cube root.
	PixelMinLSB int `json:"pixel_min_lsb"`
	// PixelAlphaLSB marks a pixel as changed when its alpha moved by at
	// least this many levels (at least 1), whatever its colour did.
	PixelAlphaLSB int `json:"pixel_alpha_lsb"`
	// Window is the side of the square window, in pixels, whose densest
	// placement is measured (clamped to the image).
	Window int `json:"window"`
	// WindowRatio bounds the fraction of changed pixels in the densest
	// window: a small object appearing or vanishing.
	WindowRatio float64 `json:"window_ratio"`
	// GlobalRatio bounds the fraction of changed pixels in the image.
	GlobalRatio float64 `json:"global_ratio"`
}

// DefaultThresholds returns the defaults, calibrated on the synthetic edit
// table of compare_test.go: every edit there fails and float-level
// re-quantisation jitter and ±1 LSB noise pass, each by a margin of at
// least 2× (see the package tests for the measured values).
func DefaultThresholds() Thresholds {
	return Thresholds{
		ColourMean: 0.3,
		ColourCast: 0.22,
		ColourCell: 4,
		// An alpha-only change of 2 % of full opacity over the image
		// trips the mean at 2×; ±1 level of alpha noise moves it by
		// ≈ 0.005. A hole of 0.5 % of the area moves it by 0.5 (local).
		AlphaMean: 1,
		AlphaCell: 10,
		// See TestSystematicShift: a 2 % gain of a dark channel gives
		// z ≥ 6.9 where it moves the channel by ≥ 0.6 levels; noise
		// |z| < 1; a 2 px shift up to 13 (weak: local names it).
		BiasZ:         5,
		BiasMinLevels: 0.6,
		// See TestDrift and runner/calibrate's TestControlsFailOnGoldens:
		// the hue and gain controls give |z| ≥ 22 and a net ≥ 3.8 % of
		// the pixels on every fixture golden; symmetric noise |z| < 4 (a
		// 10σ sign test: never by chance).
		DriftZ:        10,
		DriftMinRatio: 0.015,
		IconY:         60500,
		IconCbCr:      121000,
		// A 1-level change of one icon pixel stretched by 255/R adds
		// (255/R)² to EucMetric; over the 121 pixels the thresholds
		// above stay ≥ 2× clear of whole-icon 1-level jitter when
		// R ≥ 255·√(121·2/60500) ≈ 16. The synthetic images span
		// ≥ 40 levels per channel; see TestIconRangeGate.
		IconMinRange: 16,
		RawIconY:     30000,
		RawIconCbCr:  60000,
		HashBits:     100,
		PixelDeltaE:  2.0,
		PixelMinLSB:  2,
		// ±1 level of alpha jitter never counts.
		PixelAlphaLSB: 3,
		Window:        16,
		WindowRatio:   0.1,
		GlobalRatio:   0.01,
	}
}

// LoadThresholds reads a JSON object of thresholds over the defaults: keys
// that are absent keep their default, unknown keys are an error.
func LoadThresholds(r io.Reader) (Thresholds, error) {
	t := DefaultThresholds()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Thresholds{}, fmt.Errorf("decode thresholds: %w", err)
	}
	if err := t.Validate(); err != nil {
		return Thresholds{}, err
	}
	return t, nil
}

// UnmarshalJSON implements json.Unmarshaler. It decodes over t's current
// values, rejects unknown keys, and gives each threshold added after the
// first records (IconMinRange, AlphaMean, AlphaCell, PixelAlphaLSB, BiasZ,
// BiasMinLevels, DriftZ, DriftMinRatio) its
// default when its key is absent and t has none, so that thresholds stored
// before the field existed keep loading.
func (t *Thresholds) UnmarshalJSON(data []byte) error {
	type plain Thresholds // no methods: no recursion
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(t)); err != nil {
		return fmt.Errorf("unmarshal thresholds: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("unmarshal thresholds: %w", err)
	}
	def := DefaultThresholds()
	for _, f := range lateFields(t, &def) {
		if _, ok := keys[f.key]; !ok && *f.dst == 0 {
			*f.dst = *f.def
		}
	}
	for _, f := range lateIntFields(t, &def) {
		if _, ok := keys[f.key]; !ok && *f.dst == 0 {
			*f.dst = *f.def
		}
	}
	return nil
}

// lateField is a threshold added after records were first written: absent
// from JSON (and unset) it takes its default.
type lateField[T any] struct {
	key      string
	dst, def *T
}

// lateFields are the float thresholds added after the first records.
func lateFields(t, def *Thresholds) []lateField[float64] {
	return []lateField[float64]{
		{"icon_min_range", &t.IconMinRange, &def.IconMinRange},
		{"alpha_mean_delta", &t.AlphaMean, &def.AlphaMean},
		{"alpha_cell_delta", &t.AlphaCell, &def.AlphaCell},
		{"bias_z", &t.BiasZ, &def.BiasZ},
		{"bias_min_levels", &t.BiasMinLevels, &def.BiasMinLevels},
		{"drift_z", &t.DriftZ, &def.DriftZ},
		{"drift_min_ratio", &t.DriftMinRatio, &def.DriftMinRatio},
	}
}

// lateIntFields are the integer thresholds added after the first records.
func lateIntFields(t, def *Thresholds) []lateField[int] {
	return []lateField[int]{
		{"pixel_alpha_lsb", &t.PixelAlphaLSB, &def.PixelAlphaLSB},
	}
}

// Validate reports thresholds that cannot be meant.
func (t Thresholds) Validate() error {
	switch {
	case t.ColourMean < 0 || t.ColourCast < 0 || t.ColourCell < 0 || t.AlphaMean < 0 || t.AlphaCell < 0 ||
		t.BiasZ < 0 || t.BiasMinLevels < 0 || t.DriftZ < 0 || t.DriftMinRatio < 0:
		return fmt.Errorf("validate thresholds: colour thresholds must not be negative")
	case t.IconY < 0 || t.IconCbCr < 0 || t.IconMinRange < 0 || t.RawIconY < 0 || t.RawIconCbCr < 0 || t.HashBits < 0:
		return fmt.Errorf("validate thresholds: structure thresholds must not be negative")
	case t.Window < 1:
		return fmt.Errorf("validate thresholds: window %d must be at least 1", t.Window)
	case t.PixelDeltaE < 0 || t.PixelMinLSB < 0 || t.PixelAlphaLSB < 0 || t.WindowRatio < 0 || t.GlobalRatio < 0:
		return fmt.Errorf("validate thresholds: local thresholds must not be negative")
	}
	return nil
}
