package variants

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Axes are the values each dimension of the matrix takes. An empty
// Samplers or Schedulers keeps the workflow's own value; empty Steps or
// CFG keep the workflow's.
type Axes struct {
	Samplers   []string
	Schedulers []string
	Steps      []int
	CFG        []float64
}

// Point is one variant: a cell of the contact sheet.
type Point struct {
	// Name is the variant name (sampler.scheduler[.s<steps>][.cfg<cfg>]),
	// part of the case id.
	Name string `json:"name"`
	// Sampler and Scheduler are "" when the workflow's value is kept.
	Sampler   string `json:"sampler,omitempty"`
	Scheduler string `json:"scheduler,omitempty"`
	// Steps and CFG are nil when the workflow's value is kept.
	Steps *int     `json:"steps,omitempty"`
	CFG   *float64 `json:"cfg,omitempty"`
	// Row is the sampler's index; Col is Group×len(schedulers) + the
	// scheduler's index; Group indexes the (steps, cfg) combination.
	Row   int `json:"row"`
	Col   int `json:"col"`
	Group int `json:"group"`
}

// Grid is the expanded matrix: its points in row-major order (sampler,
// then (steps, cfg) group, then scheduler) and the labels of its rows,
// columns and column groups.
type Grid struct {
	Points      []Point
	RowLabels   []string
	ColLabels   []string
	GroupLabels []string
	// Schedulers is the number of columns in one group.
	Schedulers int
}

// Rows and Cols are the grid's dimensions.
func (g Grid) Rows() int { return len(g.RowLabels) }

// Cols is the number of columns (groups × schedulers).
func (g Grid) Cols() int { return len(g.ColLabels) }

var valueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Expand validates a and expands it into the grid of variants.
func Expand(a Axes) (Grid, error) {
	samplers, err := names("sampler", a.Samplers)
	if err != nil {
		return Grid{}, err
	}
	schedulers, err := names("scheduler", a.Schedulers)
	if err != nil {
		return Grid{}, err
	}
	type group struct {
		steps *int
		cfg   *float64
		label string
	}
	steps := []*int{nil}
	if len(a.Steps) > 0 {
		steps = steps[:0]
		seen := map[int]bool{}
		for _, s := range a.Steps {
			if s < 1 || s > 10000 {
				return Grid{}, fmt.Errorf("expand variants: steps %d: want 1..10000", s)
			}
			if seen[s] {
				return Grid{}, fmt.Errorf("expand variants: steps %d listed twice", s)
			}
			seen[s] = true
			steps = append(steps, &s)
		}
	}
	cfgs := []*float64{nil}
	if len(a.CFG) > 0 {
		cfgs = cfgs[:0]
		seen := map[float64]bool{}
		for _, c := range a.CFG {
			if c < 0 || c > 100 || c != c {
				return Grid{}, fmt.Errorf("expand variants: cfg %v: want 0..100", c)
			}
			if seen[c] {
				return Grid{}, fmt.Errorf("expand variants: cfg %v listed twice", c)
			}
			seen[c] = true
			cfgs = append(cfgs, &c)
		}
	}
	var groups []group
	for _, s := range steps {
		for _, c := range cfgs {
			var parts []string
			if s != nil {
				parts = append(parts, fmt.Sprintf("steps %d", *s))
			}
			if c != nil {
				parts = append(parts, "cfg "+formatCFG(*c))
			}
			groups = append(groups, group{steps: s, cfg: c, label: strings.Join(parts, ", ")})
		}
	}
	g := Grid{Schedulers: len(schedulers)}
	for _, s := range samplers {
		g.RowLabels = append(g.RowLabels, labelOr(s, "(workflow sampler)"))
	}
	for _, gr := range groups {
		g.GroupLabels = append(g.GroupLabels, gr.label)
		for _, s := range schedulers {
			g.ColLabels = append(g.ColLabels, labelOr(s, "(workflow scheduler)"))
		}
	}
	for r, sampler := range samplers {
		for gi, gr := range groups {
			for j, sched := range schedulers {
				p := Point{Sampler: sampler, Scheduler: sched, Steps: gr.steps, CFG: gr.cfg,
					Row: r, Col: gi*len(schedulers) + j, Group: gi}
				p.Name = p.variantName()
				g.Points = append(g.Points, p)
			}
		}
	}
	return g, nil
}

// variantName is sampler.scheduler[.s<steps>][.cfg<cfg>], leaving out the
// parts the workflow keeps ("default" when it keeps everything).
func (p Point) variantName() string {
	var parts []string
	if p.Sampler != "" {
		parts = append(parts, p.Sampler)
	}
	if p.Scheduler != "" {
		parts = append(parts, p.Scheduler)
	}
	if p.Steps != nil {
		parts = append(parts, "s"+strconv.Itoa(*p.Steps))
	}
	if p.CFG != nil {
		parts = append(parts, "cfg"+formatCFG(*p.CFG))
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ".")
}

func formatCFG(c float64) string { return strconv.FormatFloat(c, 'g', -1, 64) }

func labelOr(s, keep string) string {
	if s == "" {
		return keep
	}
	return s
}

// names validates a list of sampler or scheduler names; an empty list is
// one "" (keep the workflow's).
func names(kind string, in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{""}, nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, n := range in {
		if !valueRE.MatchString(n) {
			return nil, fmt.Errorf("expand variants: %s %q: want letters, digits, '.', '_' or '-'", kind, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("expand variants: %s %q listed twice", kind, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}
