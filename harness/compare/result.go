package compare

import (
	"fmt"
	"image"
	"math"
	"strings"
)

// Verdict is the outcome of judging one output.
type Verdict string

// The verdicts.
const (
	// Pass: the pixels are identical to the golden.
	Pass Verdict = "pass"
	// PassApprox: the pixels differ but every tier is within its
	// threshold; reported because determinism was lost.
	PassApprox Verdict = "pass~"
	// Fail: a tier tripped; Result.FailedTier names it.
	Fail Verdict = "fail"
	// Error: there was nothing to judge (no output, unreadable image).
	Error Verdict = "error"
	// New: there is no golden yet.
	New Verdict = "new"
)

// Passed reports whether v counts as a pass (pass or pass~).
func (v Verdict) Passed() bool { return v == Pass || v == PassApprox }

// Tier names, in evaluation order.
const (
	TierExact      = "exact"
	TierProvenance = "provenance"
	TierColour     = "colour"
	TierStructure  = "structure"
	TierLocal      = "local"
)

// Failure classes reported in Result.FailedTier. Each tier has one, except
// that the exact tier fails as "size" (dimensions changed) or, under
// Options.Strict, as "exact" (pixels differ). The provenance tier fails as
// "provenance": one name for the tier and its failure, in code, reports
// and README.
const (
	FailSize       = "size"
	FailExact      = "exact"
	FailProvenance = "provenance"
	// FailConfig is the provenance tier's failure class under its old name.
	//
	// Deprecated: use FailProvenance.
	FailConfig    = FailProvenance
	FailColour    = "colour"
	FailStructure = "structure"
	FailLocal     = "local"
)

// Tier statuses. StatusDiffers is the exact tier's status when the pixels
// differ but the case is not strict: not proven the same, not a failure.
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusSkipped = "skipped"
	StatusDiffers = "differs"
)

// Metric is one measured value with the threshold it is held to; Over is
// true when Value > Threshold. Informational metrics have Gated false.
type Metric struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Gated     bool    `json:"gated"`
	Over      bool    `json:"over"`
	Unit      string  `json:"unit,omitempty"`
	// Detail, optional, says what the value is about (the channel of a
	// bias); reasons show it after the value.
	Detail string `json:"detail,omitempty"`
}

// TierResult is the outcome of one tier.
type TierResult struct {
	Tier    string   `json:"tier"`
	Status  string   `json:"status"`
	Note    string   `json:"note,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
}

// Result is the judgement of one output against its golden.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// FailedTier is the failure class of the first tier that tripped
	// (size, config, colour, structure, local; exact under Strict).
	FailedTier string `json:"failed_tier,omitempty"`
	// Tripped lists every tier class that tripped, in tier order.
	Tripped []string `json:"tripped,omitempty"`
	// Trips lists the same tiers ordered by how far each is over its
	// threshold, furthest first (size and provenance, which have no
	// ratio, before all others); TripSummary renders it.
	Trips []Trip `json:"trips,omitempty"`
	// Reason is one sentence naming the tier, the metric and its value
	// against the threshold.
	Reason string `json:"reason"`
	// Tiers holds every tier in order, with all its metrics.
	Tiers []TierResult `json:"tiers"`
	// Thresholds are the thresholds the judgement used.
	Thresholds Thresholds `json:"thresholds"`
	// Diff is the heat-map of the output against the golden (DiffImage);
	// nil when identical or when the golden's pixels were not available.
	Diff image.Image `json:"-"`
	// pending holds the trips' ranks and reasons while judging; nil after.
	pending []pendingTrip
	// OutputRecord is the output's record as analysed here (provenance
	// included), so a caller keeping the output as a candidate golden need
	// not analyse it again. Nil when the output could not be read.
	OutputRecord *Record `json:"-"`
}

// Trip is one tripped tier and how far it is over its threshold.
type Trip struct {
	// Class is the failure class (size, provenance, colour, structure,
	// local).
	Class string `json:"class"`
	// Metric is the tier's gated metric furthest over its threshold;
	// empty for size and provenance.
	Metric string `json:"metric,omitempty"`
	// Ratio is that metric's value / threshold; 0 when it has none (size,
	// provenance, a zero threshold).
	Ratio float64 `json:"ratio,omitempty"`
}

// String renders "colour (46× over)", or the class alone without a ratio.
func (t Trip) String() string {
	if t.Ratio == 0 {
		return t.Class
	}
	return t.Class + " (" + formatRatio(t.Ratio) + "× over)"
}

// TripSummary lists every tripped tier, furthest over first:
// "colour (46× over), structure (1.3× over)". Empty when none tripped.
func (r *Result) TripSummary() string {
	s := make([]string, len(r.Trips))
	for i, t := range r.Trips {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// formatRatio prints an over-threshold ratio with two significant digits
// below 10 and as an integer above.
func formatRatio(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

// overRatio is m's value / threshold, 0 when the threshold is 0 (no
// meaningful ratio).
func overRatio(m Metric) float64 {
	if m.Threshold <= 0 {
		return 0
	}
	return m.Value / m.Threshold
}

// metric returns the tier's named metric, or nil.
func (tr *TierResult) metric(name string) *Metric {
	for i := range tr.Metrics {
		if tr.Metrics[i].Name == name {
			return &tr.Metrics[i]
		}
	}
	return nil
}

// Tier returns the named tier's result, or nil.
func (r *Result) Tier(name string) *TierResult {
	for i := range r.Tiers {
		if r.Tiers[i].Tier == name {
			return &r.Tiers[i]
		}
	}
	return nil
}

// Metric returns the named metric of the named tier, or nil.
func (r *Result) Metric(tier, name string) *Metric {
	t := r.Tier(tier)
	if t == nil {
		return nil
	}
	for i := range t.Metrics {
		if t.Metrics[i].Name == name {
			return &t.Metrics[i]
		}
	}
	return nil
}

// KeyMetric is the metric a one-line report shows: for a failure the
// gated metric of the failing tier furthest over its threshold (the one
// its reason names), otherwise the gated metric
// closest to its threshold (highest value/threshold). Nil when no gated
// metric was measured (identical pixels, errors).
func (r *Result) KeyMetric() *Metric {
	var best *Metric
	bestRatio := -1.0
	for ti := range r.Tiers {
		tr := &r.Tiers[ti]
		if r.Verdict == Fail {
			if failClass(tr.Tier) != r.FailedTier {
				continue
			}
			if m := worstOver(tr.Metrics); m != nil {
				return m
			}
		}
		for mi := range tr.Metrics {
			m := &tr.Metrics[mi]
			if !m.Gated {
				continue
			}
			ratio := m.Value / m.Threshold
			if m.Threshold == 0 {
				ratio = math.Inf(1)
				if m.Value == 0 {
					ratio = 0
				}
			}
			if ratio > bestRatio {
				best, bestRatio = m, ratio
			}
		}
	}
	if r.Verdict == Fail {
		return nil
	}
	return best
}

// failClass maps a tier name to its failure class.
func failClass(tier string) string {
	switch tier {
	case TierProvenance:
		return FailProvenance
	case TierExact:
		return FailExact
	}
	return tier
}

func gated(name string, value, threshold float64, unit string) Metric {
	return Metric{Name: name, Value: value, Threshold: threshold, Gated: true, Over: value > threshold, Unit: unit}
}

func info(name string, value float64, unit string) Metric {
	return Metric{Name: name, Value: value, Unit: unit}
}

// worstOver returns the gated metric furthest over its threshold (by
// value / threshold; a zero threshold counts as furthest), the first one
// on ties; nil when none is over. A last-resort metric (drift_z) is
// returned only when no other metric is over: its z grows with the number
// of pixels, so "how far over" says little, and where another metric of
// the tier caught the change that one names it better.
func worstOver(ms []Metric) *Metric {
	for _, last := range []bool{false, true} {
		var worst *Metric
		best := -1.0
		for i := range ms {
			if !ms[i].Gated || !ms[i].Over || lastResortMetrics[ms[i].Name] != last {
				continue
			}
			r := overRatio(ms[i])
			if ms[i].Threshold <= 0 {
				r = math.MaxFloat64
			}
			if r > best {
				worst, best = &ms[i], r
			}
		}
		if worst != nil {
			return worst
		}
	}
	return nil
}

// lastResortMetrics name a failure only when nothing else in their tier
// is over (worstOver).
var lastResortMetrics = map[string]bool{"drift_z": true}

// describe renders "metric 1.23 > 0.5 unit".
func (m Metric) describe() string {
	unit := ""
	if m.Unit != "" {
		unit = " " + m.Unit
	}
	detail := ""
	if m.Detail != "" {
		detail = " (" + m.Detail + ")"
	}
	return fmt.Sprintf("%s %s > %s%s%s", m.Name, formatValue(m.Value), formatValue(m.Threshold), unit, detail)
}

// formatValue prints a metric compactly: integers as integers, small
// values with enough digits to compare against their threshold.
func formatValue(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}
