package variants

import (
	"fmt"
	"image"

	"github.com/regen-dev/regen/harness/compare"
)

// Metric names a comparator metric the distance matrix holds.
type Metric struct {
	// Name is the matrix's key; Tier and Metric the comparator's names.
	Name, Tier, Metric, Unit string
}

// Metrics are the distances measured between every pair of variants.
var Metrics = []Metric{
	{Name: "icon_y", Tier: compare.TierStructure, Metric: "icon_y", Unit: "images4 EucMetric (luma)"},
	{Name: "hash_bits", Tier: compare.TierStructure, Metric: "hash_bits", Unit: "DCT hash bits differing"},
	{Name: "mean_delta_e", Tier: compare.TierColour, Metric: "mean_delta_e", Unit: "OKLab ΔE×100 of the means"},
	{Name: "window_ratio", Tier: compare.TierLocal, Metric: "window_ratio", Unit: "changed fraction of the densest window"},
}

// Missing is the value of a distance that could not be measured (an
// image is missing, or the sizes differ for the local tier).
const Missing = -1.0

// Distances is the pairwise matrix: Values[metric][i][j] compares image j
// against image i as the golden; Verdicts[i][j] is the comparator's
// verdict for that pair ("pass", "pass~" or "fail (<tier>)").
type Distances struct {
	Values   map[string][][]float64 `json:"values"`
	Verdicts [][]string             `json:"verdicts"`
}

// Measure compares every ordered pair of images with the comparator's
// default thresholds (both directions are measured, not mirrored, so the
// matrix's symmetry is a property of the metrics). A nil image gives Missing
// distances and an empty verdict.
func Measure(images []image.Image) (Distances, error) {
	n := len(images)
	recs := make([]*compare.Record, n)
	for i, im := range images {
		if im == nil {
			continue
		}
		// No PNG bytes: the variants differ in configuration on purpose,
		// so the provenance tier is left out.
		rec, err := compare.NewRecord(im, nil)
		if err != nil {
			return Distances{}, fmt.Errorf("analyse variant %d: %w", i, err)
		}
		recs[i] = rec
	}
	d := Distances{Values: map[string][][]float64{}, Verdicts: make([][]string, n)}
	for _, m := range Metrics {
		d.Values[m.Name] = make([][]float64, n)
		for i := range n {
			d.Values[m.Name][i] = make([]float64, n)
		}
	}
	for i := range n {
		d.Verdicts[i] = make([]string, n)
		for j := range n {
			if recs[i] == nil || recs[j] == nil {
				for _, m := range Metrics {
					d.Values[m.Name][i][j] = Missing
				}
				continue
			}
			res := compare.Compare(compare.Input{Image: images[i], Record: recs[i]},
				compare.Input{Image: images[j], Record: recs[j]}, compare.Options{NoDiff: true})
			d.Verdicts[i][j] = string(res.Verdict)
			if res.FailedTier != "" {
				d.Verdicts[i][j] += " (" + res.FailedTier + ")"
			}
			identical := res.Verdict == compare.Pass
			for _, m := range Metrics {
				v := 0.0
				if mt := res.Metric(m.Tier, m.Metric); mt != nil {
					v = mt.Value
				} else if !identical {
					v = Missing
				}
				d.Values[m.Name][i][j] = v
			}
		}
	}
	return d, nil
}
