package variants

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

func TestRank(t *testing.T) {
	t.Parallel()
	cells := []Cell{{Point: Point{Name: "a"}}, {Point: Point{Name: "ref"}}, {Point: Point{Name: "c"}}, {Point: Point{Name: "b"}}, {Point: Point{Name: "gone"}}}
	// row 1 is the reference as the golden
	icon := [][]float64{
		{0, 5, 5, 5, Missing},
		{7, 0, 3, 7, Missing},
		{5, 5, 0, 5, Missing},
		{5, 5, 5, 0, Missing},
		{Missing, Missing, Missing, Missing, Missing},
	}
	d := Distances{Values: map[string][][]float64{"icon_y": icon}, Verdicts: [][]string{{}, {"", "pass", "pass~", "fail (colour)", ""}, {}, {}, {}}}
	got, err := Rank(cells, d, "ref")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range got {
		order = append(order, r.Variant)
	}
	// nearest first, ties by name, unmeasured last
	if want := "c a b gone"; strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s", order, want)
	}
	if got[0].Verdict != "pass~" || got[0].Values["icon_y"] != 3 || got[1].Values["hash_bits"] != Missing {
		t.Errorf("first %+v, second %+v", got[0], got[1])
	}
	if _, err := Rank(cells, d, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown reference: %v", err)
	}
}

// TestHTMLRankingAndWideTables: the page shows the ranking when there is
// one, and every table scrolls on its own instead of being cut off.
func TestHTMLRankingAndWideTables(t *testing.T) {
	t.Parallel()
	cells := []Cell{{Point: Point{Name: "ref"}}, {Point: Point{Name: "x"}}}
	r := &Result{Workflow: "w", Cells: cells, Metrics: Metrics,
		Distances: Distances{Values: map[string][][]float64{"icon_y": {{0, 2}, {2, 0}}}, Verdicts: [][]string{{"pass", "pass~"}, {"pass~", "pass"}}}}
	page, err := r.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "Distance to") {
		t.Error("a ranking without a reference")
	}
	if n := strings.Count(string(page), `<div class="scroll">`); n != len(Metrics) {
		t.Errorf("%d scrolling tables, want %d", n, len(Metrics))
	}
	r.Reference = "ref"
	if r.Ranking, err = Rank(r.Cells, r.Distances, "ref"); err != nil {
		t.Fatal(err)
	}
	page, err = r.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Distance to ref") || !strings.Contains(string(page), "<th>x</th><td>2</td>") {
		t.Errorf("no ranking of x against ref in the page:\n%s", page)
	}
}

// TestAggregateAndRankSeeds: over several seeds a pair's distance is its
// mean with the spread, missing seeds left out, and the ranking follows the
// means and counts the failing seeds.
func TestAggregateAndRankSeeds(t *testing.T) {
	t.Parallel()
	cells := []Cell{{Point: Point{Name: "ref"}}, {Point: Point{Name: "a"}}, {Point: Point{Name: "b"}}}
	seed := func(a, b float64, va, vb string) Distances {
		return Distances{Values: map[string][][]float64{"icon_y": {{0, a, b}, {a, 0, 1}, {b, 1, 0}}},
			Verdicts: [][]string{{"pass", va, vb}, {}, {}}}
	}
	// a is nearer on one lucky seed only; on average b is nearer
	ds := []Distances{seed(1, 10, "pass~", "fail (colour)"), seed(30, 12, "fail (structure)", "fail (colour)"), seed(Missing, 14, "", "fail (colour)")}
	agg := Aggregate(ds)
	if st := agg["icon_y"][0][1]; st.N != 2 || st.Mean != 15.5 || st.SD != 14.5 {
		t.Errorf("ref→a %+v, want mean 15.5, sd 14.5 over 2 seeds", st)
	}
	if st := agg["icon_y"][0][2]; st.N != 3 || st.Mean != 12 || math.Abs(st.SD-math.Sqrt(8.0/3)) > 1e-12 {
		t.Errorf("ref→b %+v", st)
	}
	got, err := RankSeeds(cells, ds, "ref")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Variant != "b" || got[1].Variant != "a" {
		t.Fatalf("ranking %+v, want b then a", got)
	}
	if got[0].Verdict != "fail on 3/3 seeds" || got[1].Verdict != "fail on 1/3 seeds" || len(got[1].Verdicts) != 3 || got[1].SD["icon_y"] != 14.5 {
		t.Errorf("ranking %+v", got)
	}
}

func TestCross(t *testing.T) {
	t.Parallel()
	flat := func(v uint8, w int) image.Image {
		im := image.NewNRGBA(image.Rect(0, 0, 64, 64))
		for i := range im.Pix {
			im.Pix[i] = 255
			if i%4 != 3 {
				im.Pix[i] = v
			}
		}
		for y := 0; y < w; y++ { // a dark block whose size differs
			for x := 0; x < w; x++ {
				im.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
		return im
	}
	a := flat(200, 8)
	got, err := Cross("v", []image.Image{a, a, a}, []image.Image{flat(200, 8), flat(200, 40), nil})
	if err != nil {
		t.Fatal(err)
	}
	if got.Verdicts[0] != "pass" || !strings.HasPrefix(got.Verdicts[1], "fail") || got.Verdicts[2] != "missing" {
		t.Errorf("verdicts %v", got.Verdicts)
	}
	if got.Verdict != "identical on 1/3 seeds, fail on 1" || got.Values["icon_y"] <= 0 || got.SD["icon_y"] <= 0 {
		t.Errorf("cross %+v", got)
	}
}
