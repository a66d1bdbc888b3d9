package variants

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
)

// Files a variants run writes into its output directory, next to the
// runner's own record (results.json, junit.xml, summary.txt, index.html,
// candidates/).
const (
	SheetFile = "contact-sheet.png"
	CSVFile   = "distances.csv"
	JSONFile  = "distances.json"
	HTMLFile  = "variants.html"
	// CompareDir is the second target's run directory under OutDir.
	CompareDir = "compare"
)

// Options configure a variants run.
type Options struct {
	// Workflow is the workflow file (API or UI format).
	Workflow string
	Axes     Axes
	// Seed is pinned into every seed widget.
	Seed uint64
	// MoreSeeds, optional, are further seeds: every variant runs on each,
	// the contact sheet and Distances stay Seed's, and Spread holds each
	// pair's distances over all the seeds (mean and spread), so that one
	// lucky seed does not decide.
	MoreSeeds []uint64
	// Width and Height, when > 0, override the empty latent's size.
	Width, Height int
	// Compare, optional, is a second target: the same variants run there
	// too (its run directory is OutDir/compare) and Result.Cross holds,
	// per variant, how far its output there lies from Target's ("does the
	// new deployment change dpmpp_2m/karras?"). Run starts and closes it.
	Compare target.Target
	// Reference, optional, names the variant (e.g. "dpmpp_2m.karras")
	// every other is ranked against (Result.Ranking).
	Reference string
	// Base, optional, lends its model aliases, input images and
	// environment class (e.g. the committed fixtures/suite.yaml).
	Base *suite.Suite
	// Target is where the variants run; Run starts and closes it.
	Target target.Target
	// OutDir receives everything; created if needed.
	OutDir string
	// Concurrency is the number of cases in flight (default: one per
	// endpoint); Timeout bounds one case (default: the runner's).
	Concurrency int
	Timeout     time.Duration
	// Logger receives progress (default slog.Default()); OnCase, when set,
	// is called as each variant finishes.
	Logger *slog.Logger
	OnCase func(report.Case)
}

// Cell is one variant's outcome.
type Cell struct {
	Point Point  `json:"variant"`
	Case  string `json:"case"`
	// Image is the output's path relative to the output directory; empty
	// when the case produced none (Error says why).
	Image   string  `json:"image,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
	// Outputs is how many images the case produced; the first is shown.
	Outputs int `json:"outputs"`
}

// Result is a finished variants run.
type Result struct {
	Workflow string `json:"workflow"`
	Seed     uint64 `json:"seed"`
	// Seeds are all the seeds run (Seed first).
	Seeds []uint64 `json:"seeds"`
	// Spread is, per metric, every ordered pair's distance over the seeds
	// (nil with one seed).
	Spread    map[string][][]Stat `json:"spread,omitempty"`
	Grid      Grid                `json:"-"`
	Cells     []Cell              `json:"cells"`
	Metrics   []Metric            `json:"metrics"`
	Distances Distances           `json:"distances"`
	// Reference and Ranking: every variant's distance to the reference
	// variant, nearest first (see Rank); empty without Options.Reference.
	Reference string   `json:"reference,omitempty"`
	Ranking   []Ranked `json:"ranking,omitempty"`
	// Targets and Cross, with Options.Compare: the two targets' names and
	// every variant's distance from the first target's output to the
	// second's (over every seed).
	Targets []string `json:"targets,omitempty"`
	Cross   []Ranked `json:"cross,omitempty"`
	// Run is the runner's record of the replay.
	Run *report.Run `json:"-"`
}

// ErrIncomplete is returned (wrapped) when some variants produced no
// image; the files are written all the same.
var ErrIncomplete = errors.New("variants incomplete")

// Run plans, replays and measures the variants and writes the contact
// sheet, the distance matrix (CSV, JSON) and the HTML page into OutDir.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Workflow == "" || opts.Target == nil || opts.OutDir == "" {
		return nil, errors.New("run variants: workflow, target and output directory are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	grid, err := Expand(opts.Axes)
	if err != nil {
		return nil, err
	}
	if opts.Reference != "" && !slices.ContainsFunc(grid.Points, func(p Point) bool { return p.Name == opts.Reference }) {
		return nil, fmt.Errorf("run variants: reference %q is not one of the variants", opts.Reference)
	}
	st, err := Suite(opts, grid)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("run variants: %w", err)
	}
	rec, err := replay(ctx, opts, st, opts.Target, opts.OutDir)
	if err != nil {
		return nil, err
	}
	var recB *report.Run
	if opts.Compare != nil {
		if recB, err = replay(ctx, opts, st, opts.Compare, filepath.Join(opts.OutDir, CompareDir)); err != nil {
			return nil, err
		}
	}
	seeds := append([]uint64{opts.Seed}, opts.MoreSeeds...)
	res := &Result{Workflow: st.Workflows[0].Name, Seed: opts.Seed, Seeds: seeds, Grid: grid, Metrics: Metrics, Run: rec}
	type key struct {
		variant string
		seed    uint64
	}
	byVariant := map[key]report.Case{}
	for _, c := range rec.Cases {
		byVariant[key{c.Variant, c.Seed}] = c
	}
	var images []image.Image
	var missing []string
	var perSeed []Distances
	for si, seed := range seeds {
		imgs := make([]image.Image, len(grid.Points))
		for i, p := range grid.Points {
			c, ok := byVariant[key{p.Name, seed}]
			cell := Cell{Point: p, Case: c.ID, Seconds: c.TotalSeconds, Outputs: len(c.Outputs)}
			if ok {
				imgs[i], cell.Image, cell.Error = firstImage(opts.OutDir, c)
			} else {
				cell.Error = "not planned"
			}
			if imgs[i] == nil {
				name := p.Name
				if len(seeds) > 1 {
					name += fmt.Sprintf(" seed %d", seed)
				}
				missing = append(missing, fmt.Sprintf("%s: %s", name, cell.Error))
			}
			if si == 0 {
				res.Cells = append(res.Cells, cell)
			}
		}
		d, err := Measure(imgs)
		if err != nil {
			return res, fmt.Errorf("run variants: %w", err)
		}
		if si == 0 {
			images, res.Distances = imgs, d
		}
		perSeed = append(perSeed, d)
	}
	if len(seeds) > 1 {
		res.Spread = Aggregate(perSeed)
	}
	if opts.Reference != "" {
		res.Reference = opts.Reference
		if res.Ranking, err = RankSeeds(res.Cells, perSeed, opts.Reference); err != nil {
			return res, fmt.Errorf("run variants: %w", err)
		}
	}
	if recB != nil {
		res.Targets = []string{opts.Target.Describe(), opts.Compare.Describe()}
		cases := map[key]report.Case{}
		for _, c := range recB.Cases {
			cases[key{c.Variant, c.Seed}] = c
		}
		for _, p := range grid.Points {
			var as, bs []image.Image
			for _, seed := range seeds {
				a, _, _ := firstImage(opts.OutDir, byVariant[key{p.Name, seed}])
				var b image.Image
				if c, ok := cases[key{p.Name, seed}]; ok {
					var why string
					if b, _, why = firstImage(filepath.Join(opts.OutDir, CompareDir), c); b == nil {
						missing = append(missing, fmt.Sprintf("%s seed %d on %s: %s", p.Name, seed, opts.Compare.Describe(), why))
					}
				}
				as, bs = append(as, a), append(bs, b)
			}
			x, err := Cross(p.Name, as, bs)
			if err != nil {
				return res, fmt.Errorf("run variants: %w", err)
			}
			res.Cross = append(res.Cross, x)
		}
	}
	if err := res.write(opts.OutDir, images); err != nil {
		return res, fmt.Errorf("run variants: %w", err)
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("%w: %d of %d variants produced no image:\n  %s", ErrIncomplete, len(missing), len(grid.Points)*len(seeds), strings.Join(missing, "\n  "))
	}
	return res, nil
}

// replay starts tgt, learns its environment class and replays the
// variants' suite on it into runDir. The variants are judged against no
// goldens, so any class will do, but the runner refuses to mix classes.
func replay(ctx context.Context, opts Options, st *suite.Suite, tgt target.Target, runDir string) (*report.Run, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("run variants: %w", err)
	}
	eps, err := tgt.Start(ctx)
	if err != nil {
		tgt.Close()
		return nil, fmt.Errorf("run variants: start target %s: %w", tgt.Describe(), err)
	}
	fp, err := tgt.Fingerprint(ctx)
	if err != nil {
		tgt.Close()
		return nil, fmt.Errorf("run variants: fingerprint target: %w", err)
	}
	class := st.Environment
	if c := runner.TargetClass(fp); c != "" {
		class = c
	}
	rec, err := runner.Run(ctx, runner.Options{
		Suite: st, SuitePath: opts.Workflow, Class: class, Target: &startedTarget{Target: tgt, eps: eps, fp: fp},
		GoldenDir: filepath.Join(runDir, "no-goldens"), RunDir: runDir,
		Concurrency: opts.Concurrency, Timeout: opts.Timeout, Retries: 1, Logger: opts.Logger, OnCase: opts.OnCase,
	})
	if err != nil {
		return nil, fmt.Errorf("run variants: %w", err)
	}
	return rec, nil
}

// firstImage decodes the first output image the case kept.
func firstImage(dir string, c report.Case) (image.Image, string, string) {
	for _, o := range c.Outputs {
		if o.Candidate == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, o.Candidate))
		if err != nil {
			return nil, "", err.Error()
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, "", fmt.Sprintf("decode %s: %v", o.Candidate, err)
		}
		return img, o.Candidate, ""
	}
	switch {
	case c.Error != "":
		return nil, "", c.Error
	case c.Reason != "":
		return nil, "", c.Reason
	}
	return nil, "", fmt.Sprintf("no output image (verdict %s)", c.Verdict)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Suite returns the one-workflow suite whose variants are the grid's
// points: the runner's planner applies their overrides and pins the seed.
func Suite(opts Options, g Grid) (*suite.Suite, error) {
	abs, err := filepath.Abs(opts.Workflow)
	if err != nil {
		return nil, fmt.Errorf("plan variants: %w", err)
	}
	name := strings.Trim(unsafeName.ReplaceAllString(strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)), "_"), "._-")
	if name == "" {
		name = "workflow"
	}
	wf := suite.Workflow{Name: name, Path: abs}
	if opts.Width > 0 {
		wf.Overrides.Width = &opts.Width
	}
	if opts.Height > 0 {
		wf.Overrides.Height = &opts.Height
	}
	for _, p := range g.Points {
		wf.Variants = append(wf.Variants, suite.Variant{Name: p.Name, Overrides: suite.Overrides{
			SamplerName: p.Sampler, Scheduler: p.Scheduler, Steps: p.Steps, CFG: p.CFG}})
	}
	st := suite.Suite{Seeds: append([]uint64{opts.Seed}, opts.MoreSeeds...), Workflows: []suite.Workflow{wf}}
	if b := opts.Base; b != nil {
		st.Environment, st.Aliases = b.Environment, b.Aliases
		if b.ObjectInfo != "" {
			if st.ObjectInfo, err = filepath.Abs(b.Resolve(b.ObjectInfo)); err != nil {
				return nil, fmt.Errorf("plan variants: %w", err)
			}
		}
		for _, in := range b.Inputs {
			p, err := filepath.Abs(b.Resolve(in.Path))
			if err != nil {
				return nil, fmt.Errorf("plan variants: %w", err)
			}
			st.Inputs = append(st.Inputs, suite.Input{Path: p, Name: in.Name})
		}
	}
	// Through the suite's own decoder, so that it is validated and
	// defaulted exactly as a committed suite would be.
	y, err := yaml.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("plan variants: encode suite: %w", err)
	}
	out, err := suite.Decode(bytes.NewReader(y))
	if err != nil {
		return nil, fmt.Errorf("plan variants: %w", err)
	}
	return out, nil
}

// startedTarget is a target already started and fingerprinted: Start
// returns its endpoints and Fingerprint what it reported then.
type startedTarget struct {
	target.Target
	eps []target.Endpoint
	fp  json.RawMessage
}

func (t *startedTarget) Start(context.Context) ([]target.Endpoint, error) { return t.eps, nil }

func (t *startedTarget) Fingerprint(context.Context) (json.RawMessage, error) { return t.fp, nil }
