//go:build !regenfast

package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/runner/golden"
)

// showFlags are `regen golden show`'s flags.
type showFlags struct {
	class     string
	goldenDir string
}

func goldenShow(_ context.Context, s Streams, args []string) error {
	var f showFlags
	fs := newFlagSet("golden show", s)
	fs.StringVar(&f.class, "class", "cpu", "environment class of the goldens")
	fs.StringVar(&f.goldenDir, "golden-dir", "golden", "golden root; goldens live in <dir>/<class>/")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen golden show CASE [--class CLASS] [--golden-dir DIR]")
		fmt.Fprintln(fs.Output(), "\nPrints the golden records of a case (its id, as regen run prints it): the image, its provenance,")
		fmt.Fprintln(fs.Output(), "the thresholds that judge it, and every calibration with its evidence (N, spread and threshold per")
		fmt.Fprintln(fs.Output(), "metric, each positive control's verdict, margin and tripped tiers).")
		fmt.Fprintln(fs.Output(), "\nExamples:\n  regen golden show 'txt2img-gmm[euler]/seed=1'\n  regen golden show 'txt2img-els/seed=1' --class cuda-emulated-nondet")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{msg: "golden show: want one case id", hint: "regen golden show 'txt2img-gmm[euler]/seed=1'"}
	}
	store := golden.Store{Root: f.goldenDir, Class: f.class}
	recs, files, err := findCase(store, pos[0])
	if err != nil {
		return fmt.Errorf("golden show: %w", err)
	}
	for i, rec := range recs {
		if i > 0 {
			fmt.Fprintln(s.Out)
		}
		if err := showRecord(s.Out, store, files[i], rec); err != nil {
			return fmt.Errorf("golden show: %w", err)
		}
	}
	return nil
}

// findCase returns the records of case id in the store (one per output),
// in file order, and their record paths.
func findCase(store golden.Store, id string) ([]*golden.Record, []string, error) {
	wf := id
	if i := strings.IndexAny(wf, "[/"); i >= 0 {
		wf = wf[:i]
	}
	matches, _ := filepath.Glob(filepath.Join(store.Dir(), wf, "*.json"))
	slices.Sort(matches)
	var recs []*golden.Record
	var files []string
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, nil, err
		}
		rec, err := golden.DecodeRecord(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m, err)
		}
		if rec.Case == id {
			recs, files = append(recs, rec), append(files, m)
		}
	}
	if len(recs) == 0 {
		if _, err := os.Stat(store.Dir()); err != nil {
			return nil, nil, fmt.Errorf("no golden class folder %s (--class, --golden-dir)", store.Dir())
		}
		return nil, nil, fmt.Errorf("no golden of case %q in %s (the id as regen run prints it, e.g. 'txt2img-gmm[euler]/seed=1')", id, store.Dir())
	}
	return recs, files, nil
}

func showRecord(w io.Writer, store golden.Store, path string, rec *golden.Record) error {
	crec, err := compare.ReadRecord(bytes.NewReader(rec.Compare))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(w, "%s  %s\n", rec.Case, strings.TrimSuffix(path, ".json")+".png")
	fmt.Fprintf(w, "  output %s #%d, %d×%d, pixels sha256 %.16s…\n", rec.Node, rec.Index, crec.Width, crec.Height, crec.SHA256)
	p := rec.Provenance
	prov := "produced " + p.Produced.Format("2006-01-02 15:04:05Z")
	if p.Commit != "" {
		prov += " at commit " + shortCommit(p.Commit)
		if p.Dirty {
			prov += " (dirty)"
		}
	}
	if p.Run != "" {
		prov += " by run " + p.Run
	}
	fmt.Fprintf(w, "  %s\n", prov)
	if crec.Thresholds != nil {
		fmt.Fprintln(w, "  uncalibrated thresholds: the record's own (compare.thresholds)")
	} else {
		fmt.Fprintln(w, "  uncalibrated thresholds: the defaults (compare.DefaultThresholds), with the suite's overrides")
	}
	if len(rec.Calibrations) == 0 {
		fmt.Fprintf(w, "  no calibration: class %s is judged with the uncalibrated thresholds, and no other class may be judged against it (regen golden calibrate)\n", store.Class)
		return nil
	}
	keys := make([]string, 0, len(rec.Calibrations))
	for k := range rec.Calibrations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		showCalibration(w, store.Class, rec.Calibrations[k])
	}
	return nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func showCalibration(w io.Writer, class string, cal *golden.Calibration) {
	pair := "its own class"
	if cal.Target != class {
		pair = "across classes: regen run --golden-class " + class + " on a " + cal.Target + " target"
	}
	fmt.Fprintf(w, "  calibration for target class %s (%s): N=%d, thresholds at %s× the spread, %s", cal.Target, pair, cal.Runs, fmtNum(cal.Factor), cal.Date.Format("2006-01-02"))
	if cal.Commit != "" {
		fmt.Fprintf(w, ", commit %s", shortCommit(cal.Commit))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    metric\tspread\tfloor\tthreshold\t")
	for _, k := range compare.GatedMetrics() {
		v, _ := cal.Thresholds.Threshold(k)
		floor, _ := cal.Floors.Threshold(k)
		mark := ""
		if v > floor {
			mark = "  widened"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", k, fmtNum(cal.Spread[k]), fmtNum(floor), fmtNum(v), mark)
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    control\tverdict\tmargin\ttripped")
	for _, c := range cal.Controls {
		switch {
		case c.Note != "":
			fmt.Fprintf(tw, "    %s\t-\t-\t%s\n", c.Name, c.Note)
		default:
			margin := "-"
			if c.Margin > 0 {
				margin = fmtNum(c.Margin) + "×"
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", c.Name, c.Verdict, margin, strings.Join(c.Tripped, ", "))
		}
	}
	_ = tw.Flush()
	if name, m := cal.SmallestMargin(); m > 0 {
		fmt.Fprintf(w, "    smallest control margin: %s, %s× over its threshold\n", name, fmtNum(m))
	}
}
