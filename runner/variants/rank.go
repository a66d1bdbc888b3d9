package variants

import (
	"fmt"
	"slices"
)

// Ranked is one variant's distance to the reference variant (the
// reference judged as the golden, the variant as the output).
type Ranked struct {
	Variant string             `json:"variant"`
	Values  map[string]float64 `json:"values"` // by metric name; Missing when not measured
	Verdict string             `json:"verdict"`
}

// RankMetric orders a ranking: the images4 luma distance, the structure
// tier's measure of how far a composition moved.
const RankMetric = "icon_y"

// Rank returns every variant but the reference ordered by its distance to
// the reference (RankMetric, nearest first; variants that could not be
// measured last; ties by name), so "which variants land closest to
// dpmpp_2m/karras" reads top to bottom.
func Rank(cells []Cell, d Distances, reference string) ([]Ranked, error) {
	ref := -1
	var names []string
	for i, c := range cells {
		names = append(names, c.Point.Name)
		if c.Point.Name == reference {
			ref = i
		}
	}
	if ref < 0 {
		return nil, fmt.Errorf("rank variants: reference %q is not a variant (have %v)", reference, names)
	}
	var out []Ranked
	for j, c := range cells {
		if j == ref {
			continue
		}
		r := Ranked{Variant: c.Point.Name, Values: map[string]float64{}}
		for _, m := range Metrics {
			if vals, ok := d.Values[m.Name]; ok && ref < len(vals) && j < len(vals[ref]) {
				r.Values[m.Name] = vals[ref][j]
			} else {
				r.Values[m.Name] = Missing
			}
		}
		if ref < len(d.Verdicts) && j < len(d.Verdicts[ref]) {
			r.Verdict = d.Verdicts[ref][j]
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Ranked) int {
		va, vb := a.Values[RankMetric], b.Values[RankMetric]
		switch {
		case va == Missing && vb != Missing:
			return 1
		case vb == Missing && va != Missing:
			return -1
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		if a.Variant < b.Variant {
			return -1
		}
		if a.Variant > b.Variant {
			return 1
		}
		return 0
	})
	return out, nil
}
