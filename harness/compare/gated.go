package compare

import "math"

// gatedKeys maps every gated metric, as "<tier>.<metric>" (the keys of a
// run's results.json), to the threshold that gates it. Several metrics may
// share one threshold (icon_cb and icon_cr: IconCbCr).
var gatedKeys = []struct {
	key   string
	float func(*Thresholds) *float64
	int   func(*Thresholds) *int
}{
	{key: "colour.mean_delta_e", float: func(t *Thresholds) *float64 { return &t.ColourMean }},
	{key: "colour.cast_delta_e", float: func(t *Thresholds) *float64 { return &t.ColourCast }},
	{key: "colour.cell_delta_e", float: func(t *Thresholds) *float64 { return &t.ColourCell }},
	{key: "colour.alpha_mean_delta", float: func(t *Thresholds) *float64 { return &t.AlphaMean }},
	{key: "colour.alpha_cell_delta", float: func(t *Thresholds) *float64 { return &t.AlphaCell }},
	{key: "colour.bias_z", float: func(t *Thresholds) *float64 { return &t.BiasZ }},
	{key: "colour.drift_z", float: func(t *Thresholds) *float64 { return &t.DriftZ }},
	{key: "structure.icon_y", float: func(t *Thresholds) *float64 { return &t.IconY }},
	{key: "structure.icon_cb", float: func(t *Thresholds) *float64 { return &t.IconCbCr }},
	{key: "structure.icon_cr", float: func(t *Thresholds) *float64 { return &t.IconCbCr }},
	{key: "structure.raw_icon_y", float: func(t *Thresholds) *float64 { return &t.RawIconY }},
	{key: "structure.raw_icon_cb", float: func(t *Thresholds) *float64 { return &t.RawIconCbCr }},
	{key: "structure.raw_icon_cr", float: func(t *Thresholds) *float64 { return &t.RawIconCbCr }},
	{key: "structure.hash_bits", int: func(t *Thresholds) *int { return &t.HashBits }},
	{key: "local.window_ratio", float: func(t *Thresholds) *float64 { return &t.WindowRatio }},
	{key: "local.global_ratio", float: func(t *Thresholds) *float64 { return &t.GlobalRatio }},
}

// GatedMetrics lists every gated metric as "<tier>.<metric>", in tier
// order: the metrics a calibration measures the spread of.
func GatedMetrics() []string {
	out := make([]string, len(gatedKeys))
	for i, g := range gatedKeys {
		out[i] = g.key
	}
	return out
}

// Threshold returns the threshold gating metric key ("<tier>.<metric>");
// false when key is no gated metric.
func (t *Thresholds) Threshold(key string) (float64, bool) {
	for _, g := range gatedKeys {
		if g.key != key {
			continue
		}
		if g.int != nil {
			return float64(*g.int(t)), true
		}
		return *g.float(t), true
	}
	return 0, false
}

// Raise sets the threshold gating metric key to v when v is above it
// (integer thresholds round up), and reports whether key is a gated
// metric. It never lowers a threshold: a calibration starts from the
// floors and only widens them.
func (t *Thresholds) Raise(key string, v float64) bool {
	for _, g := range gatedKeys {
		if g.key != key {
			continue
		}
		if g.int != nil {
			if p := g.int(t); v > float64(*p) {
				*p = int(math.Ceil(v))
			}
		} else if p := g.float(t); v > *p {
			*p = v
		}
		return true
	}
	return false
}

// GatedValues returns every gated metric that r measured and gated, keyed
// "<tier>.<metric>", in tier order (metrics not gated for this image, such
// as the stretched icon of a flat image, are left out).
func (r *Result) GatedValues() []KeyValue {
	var out []KeyValue
	for _, tr := range r.Tiers {
		for _, m := range tr.Metrics {
			if m.Gated && !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
				out = append(out, KeyValue{Key: tr.Tier + "." + m.Name, Value: m.Value})
			}
		}
	}
	return out
}

// KeyValue is one metric's value under its "<tier>.<metric>" key.
type KeyValue struct {
	Key   string
	Value float64
}
