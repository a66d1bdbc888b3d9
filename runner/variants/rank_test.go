package variants

import (
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
