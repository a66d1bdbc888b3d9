//go:build !regenfast

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/factory"
	"github.com/regen-dev/regen/runner/variants"
)

func variantsCommand() command {
	return command{summary: "replay one workflow over samplers × schedulers (× steps × cfg): contact sheet and distance matrix", run: runVariants}
}

// variantsFlags are `regen variants`' flags.
type variantsFlags struct {
	target                                     targetFlags
	workflow, samplers, schedulers, steps, cfg string
	reference, seeds                           string
	seed                                       uint64
	size                                       string
	suite, out                                 string
	concurrency                                int
	timeout                                    time.Duration
	verbose, quiet, suiteSet                   bool
}

func runVariants(ctx context.Context, s Streams, args []string) error {
	return variantsWithTarget(ctx, s, args, nil)
}

// variantsWithTarget is `regen variants`; tgt, when non-nil, replaces the
// target the flags describe (tests).
func variantsWithTarget(ctx context.Context, s Streams, args []string, tgt target.Target) error {
	var f variantsFlags
	fs := newFlagSet("variants", s)
	fs.StringVar(&f.workflow, "workflow", "", "the workflow file (API or UI format) (required)")
	fs.StringVar(&f.samplers, "samplers", "", "comma-separated sampler names, one row each (default: the workflow's)")
	fs.StringVar(&f.schedulers, "schedulers", "", "comma-separated scheduler names, one column each (default: the workflow's)")
	fs.StringVar(&f.steps, "steps", "", "comma-separated step counts (column groups; default: the workflow's)")
	fs.StringVar(&f.cfg, "cfg", "", "comma-separated CFG scales (column groups; default: the workflow's)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed pinned into every seed widget")
	fs.StringVar(&f.seeds, "seeds", "", "comma-separated seeds instead of --seed: every variant runs on each, distances are averaged with their spread (the sheet shows the first)")
	fs.StringVar(&f.reference, "reference", "", "rank every variant by its distance to this one, <sampler>.<scheduler>[…] as the sheet names it (e.g. dpmpp_2m.karras)")
	fs.StringVar(&f.size, "size", "", "override the empty latent's size, WxH (e.g. 64x64)")
	f.target.maxURLs = 2
	f.target.bind(fs)
	fs.StringVar(&f.suite, "suite", "fixtures/suite.yaml", "suite whose model aliases, input images and environment class to borrow (ignored when the default is absent)")
	fs.StringVar(&f.out, "out", "", "output directory (default out/variants-<timestamp>)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "variants in flight (default: one per endpoint)")
	fs.DurationVar(&f.timeout, "timeout", 0, "per-variant replay timeout (default 5m)")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs")
	fs.BoolVar(&f.quiet, "q", false, "no progress lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen variants --workflow FILE [--samplers euler,dpmpp_2m] [--schedulers normal,karras]")
		fmt.Fprintln(fs.Output(), "                      [--steps 10,20] [--cfg 7,8] [--seed N] [--env local | --url URL] [--out DIR]")
		fmt.Fprintln(fs.Output(), "\nReplays one workflow for every combination and writes contact-sheet.png, distances.csv,")
		fmt.Fprintln(fs.Output(), "distances.json and variants.html (the pairwise perceptual distances) into --out.")
		fmt.Fprintln(fs.Output(), "Exit 0: every variant produced an image; 2: an infrastructure or usage error.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("variants: unexpected argument %q", fs.Arg(0)), hint: "regen variants --help"}
	}
	f.target.parsed(fs)
	fs.Visit(func(fl *flag.Flag) { f.suiteSet = f.suiteSet || fl.Name == "suite" })
	return f.execute(ctx, s, tgt)
}

func (f *variantsFlags) execute(ctx context.Context, s Streams, tgt target.Target) error {
	const hint = "regen variants --workflow fixtures/workflows/txt2img-gmm.json --samplers euler,dpmpp_2m --schedulers normal,karras"
	if f.workflow == "" {
		return &usageError{msg: "variants: --workflow is required", hint: hint}
	}
	if _, err := os.Stat(f.workflow); err != nil {
		return &usageError{msg: "variants: " + err.Error(), hint: hint}
	}
	var more []uint64
	if f.seeds != "" {
		var all []uint64
		for _, p := range splitList(f.seeds) {
			v, err := strconv.ParseUint(p, 10, 64)
			if err != nil {
				return &usageError{msg: fmt.Sprintf("variants: --seeds: %q is not a seed", p), hint: "regen variants --seeds 1,2,3 …"}
			}
			if slices.Contains(all, v) {
				return &usageError{msg: fmt.Sprintf("variants: --seeds: %d twice", v)}
			}
			all = append(all, v)
		}
		if len(all) == 0 {
			return &usageError{msg: "variants: --seeds is empty", hint: "regen variants --seeds 1,2,3 …"}
		}
		f.seed, more = all[0], all[1:]
	}
	if f.concurrency < 0 {
		return &usageError{msg: "variants: --concurrency must be >= 0"}
	}
	axes := variants.Axes{Samplers: splitList(f.samplers), Schedulers: splitList(f.schedulers)}
	var err error
	if axes.Steps, err = parseInts(f.steps); err != nil {
		return &usageError{msg: "variants: bad --steps: " + err.Error(), hint: "--steps 10,20"}
	}
	if axes.CFG, err = parseFloats(f.cfg); err != nil {
		return &usageError{msg: "variants: bad --cfg: " + err.Error(), hint: "--cfg 7,8.5"}
	}
	if _, err := variants.Expand(axes); err != nil {
		return &usageError{msg: "variants: " + err.Error(), hint: hint}
	}
	w, h, err := parseSize(f.size)
	if err != nil {
		return &usageError{msg: "variants: " + err.Error(), hint: "--size 64x64"}
	}
	var base *suite.Suite
	if _, statErr := os.Stat(f.suite); statErr == nil || f.suiteSet {
		if base, err = suite.Load(f.suite); err != nil {
			return fmt.Errorf("variants: %w", err)
		}
	}
	out := f.out
	if out == "" {
		out = filepath.Join("out", "variants-"+time.Now().UTC().Format("20060102-150405"))
	}
	logger := newLogger(s.Err, f.verbose, f.quiet)
	var notify io.Writer
	if !f.quiet {
		notify = s.Err
	}
	topts, err := f.target.options("variants", out, logger, notify)
	if err != nil {
		return err
	}
	if tgt == nil {
		if tgt, err = factory.New(topts); err != nil {
			return &usageError{msg: "variants: " + err.Error(), hint: "regen variants --env local"}
		}
	}
	opts := variants.Options{Workflow: f.workflow, Axes: axes, Seed: f.seed, Width: w, Height: h, Base: base, Reference: f.reference, MoreSeeds: more,
		Target: tgt, OutDir: out, Concurrency: f.concurrency, Timeout: f.timeout, Logger: logger}
	if urls := f.target.urls; len(urls) == 2 {
		if opts.Compare, err = target.NewURL(urls[1]); err != nil {
			return &usageError{msg: "variants: " + err.Error()}
		}
	}
	done := 0
	if !f.quiet {
		opts.OnCase = func(c report.Case) {
			done++
			fmt.Fprintf(s.Err, "[%d] %s (%.1fs)%s\n", done, c.ID, c.TotalSeconds, errSuffix(c))
		}
	}
	start := time.Now()
	res, err := variants.Run(ctx, opts)
	if res != nil {
		fmt.Fprintf(s.Out, "%d variants of %s in %.1fs\n", len(res.Cells), res.Workflow, time.Since(start).Seconds())
		fmt.Fprintf(s.Out, "wrote %s: %s, %s, %s, %s\n", out, variants.SheetFile, variants.CSVFile, variants.JSONFile, variants.HTMLFile)
		if len(res.Cross) > 0 {
			fmt.Fprintf(s.Out, "across targets, %s → %s (%s):\n", res.Targets[0], res.Targets[1], variants.RankMetric)
			for _, r := range res.Cross {
				fmt.Fprintf(s.Out, "     %-32s %10.1f  %s\n", r.Variant, r.Values[variants.RankMetric], r.Verdict)
			}
		}
		if len(res.Ranking) > 0 {
			fmt.Fprintf(s.Out, "distance to %s (%s, nearest first):\n", res.Reference, variants.RankMetric)
			for i, r := range res.Ranking {
				spread := ""
				if r.SD != nil {
					spread = fmt.Sprintf(" ±%-8.1f", r.SD[variants.RankMetric])
				}
				fmt.Fprintf(s.Out, "%3d. %-32s %10.1f%s  %s\n", i+1, r.Variant, r.Values[variants.RankMetric], spread, r.Verdict)
			}
		}
	}
	if err != nil {
		if errors.Is(err, variants.ErrIncomplete) {
			return err
		}
		return fmt.Errorf("variants: %w", err)
	}
	return nil
}

func errSuffix(c report.Case) string {
	if c.Error != "" {
		return " error: " + c.Error
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", p)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseSize parses WxH; "" is 0, 0 (keep the workflow's).
func parseSize(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 8 || h < 8 || w%8 != 0 || h%8 != 0 {
		return 0, 0, fmt.Errorf("bad --size %q: want WxH, multiples of 8, e.g. 64x64", s)
	}
	return w, h, nil
}
