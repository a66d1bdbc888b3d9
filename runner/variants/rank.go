package variants

import (
	"fmt"
	"image"
	"math"
	"slices"
)

// Stat is one distance over several seeds: mean and (population) standard
// deviation over the N seeds where it was measured; Mean is Missing when N
// is 0.
type Stat struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	N    int     `json:"n"`
}

// stat summarises values, skipping Missing ones.
func stat(vals []float64) Stat {
	var s Stat
	for _, v := range vals {
		if v != Missing {
			s.Mean += v
			s.N++
		}
	}
	if s.N == 0 {
		return Stat{Mean: Missing}
	}
	s.Mean /= float64(s.N)
	for _, v := range vals {
		if v != Missing {
			s.SD += (v - s.Mean) * (v - s.Mean)
		}
	}
	s.SD = math.Sqrt(s.SD / float64(s.N))
	return s
}

// Aggregate summarises per-seed matrices (same variants, same order): for
// every metric and ordered pair, the distance's mean and spread over the
// seeds.
func Aggregate(ds []Distances) map[string][][]Stat {
	out := map[string][][]Stat{}
	if len(ds) == 0 {
		return out
	}
	for name, first := range ds[0].Values {
		m := make([][]Stat, len(first))
		for i := range first {
			m[i] = make([]Stat, len(first[i]))
			for j := range first[i] {
				vals := make([]float64, 0, len(ds))
				for _, d := range ds {
					vals = append(vals, d.Values[name][i][j])
				}
				m[i][j] = stat(vals)
			}
		}
		out[name] = m
	}
	return out
}

// RankSeeds is Rank over several seeds: each variant's distances to the
// reference are averaged over the seeds (Values, with their spread in SD),
// ranked by the mean, and its verdict on every seed is listed.
func RankSeeds(cells []Cell, ds []Distances, reference string) ([]Ranked, error) {
	if len(ds) == 1 {
		return Rank(cells, ds[0], reference)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("rank variants: no distances")
	}
	agg := Aggregate(ds)
	mean := Distances{Values: map[string][][]float64{}, Verdicts: ds[0].Verdicts}
	for name, m := range agg {
		mean.Values[name] = make([][]float64, len(m))
		for i := range m {
			mean.Values[name][i] = make([]float64, len(m[i]))
			for j, st := range m[i] {
				mean.Values[name][i][j] = st.Mean
			}
		}
	}
	ranked, err := Rank(cells, mean, reference)
	if err != nil {
		return nil, err
	}
	ref := slices.IndexFunc(cells, func(c Cell) bool { return c.Point.Name == reference })
	idx := map[string]int{}
	for i, c := range cells {
		idx[c.Point.Name] = i
	}
	for k := range ranked {
		j := idx[ranked[k].Variant]
		ranked[k].SD = map[string]float64{}
		for name, m := range agg {
			ranked[k].SD[name] = m[ref][j].SD
		}
		ranked[k].Verdicts = nil
		for _, d := range ds {
			v := ""
			if ref < len(d.Verdicts) && j < len(d.Verdicts[ref]) {
				v = d.Verdicts[ref][j]
			}
			ranked[k].Verdicts = append(ranked[k].Verdicts, v)
		}
		ranked[k].Verdict = summarise(ranked[k].Verdicts)
	}
	return ranked, nil
}

// summarise says how many seeds failed, e.g. "fail on 2/3 seeds".
func summarise(verdicts []string) string {
	fails := 0
	for _, v := range verdicts {
		if len(v) >= 4 && v[:4] == "fail" {
			fails++
		}
	}
	return fmt.Sprintf("fail on %d/%d seeds", fails, len(verdicts))
}

// Ranked is one variant's distance to the reference variant (the
// reference judged as the golden, the variant as the output).
type Ranked struct {
	Variant string             `json:"variant"`
	Values  map[string]float64 `json:"values"` // by metric name (the mean over seeds); Missing when not measured
	Verdict string             `json:"verdict"`
	// SD and Verdicts, over several seeds: each distance's spread, and
	// the verdict on every seed (Verdict then counts the failures).
	SD       map[string]float64 `json:"sd,omitempty"`
	Verdicts []string           `json:"verdicts,omitempty"`
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

// Cross compares one variant's outputs on two targets, seed by seed (as[k]
// from the first target judged as the golden, bs[k] from the second as
// the output): Values are the distances' means over the seeds, SD their
// spread, Verdicts the comparator's verdict per seed ("missing" when
// either image is), and Verdict counts the seeds that are bit-identical
// and the ones that fail.
func Cross(variant string, as, bs []image.Image) (Ranked, error) {
	r := Ranked{Variant: variant, Values: map[string]float64{}, SD: map[string]float64{}}
	per := map[string][]float64{}
	same, fails := 0, 0
	for k := range as {
		if as[k] == nil || k >= len(bs) || bs[k] == nil {
			r.Verdicts = append(r.Verdicts, "missing")
			for _, m := range Metrics {
				per[m.Name] = append(per[m.Name], Missing)
			}
			continue
		}
		d, err := Measure([]image.Image{as[k], bs[k]})
		if err != nil {
			return Ranked{}, fmt.Errorf("compare %s across targets: %w", variant, err)
		}
		v := d.Verdicts[0][1]
		switch {
		case v == "pass":
			same++
		case len(v) >= 4 && v[:4] == "fail":
			fails++
		}
		r.Verdicts = append(r.Verdicts, v)
		for _, m := range Metrics {
			per[m.Name] = append(per[m.Name], d.Values[m.Name][0][1])
		}
	}
	for _, m := range Metrics {
		st := stat(per[m.Name])
		r.Values[m.Name], r.SD[m.Name] = st.Mean, st.SD
	}
	r.Verdict = fmt.Sprintf("identical on %d/%d seeds, fail on %d", same, len(as), fails)
	return r, nil
}
