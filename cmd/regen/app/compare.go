package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"
	"text/tabwriter"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
)

const compareUsage = `Usage: regen compare [flags] GOLDEN OUTPUT

Judge OUTPUT (a PNG) against GOLDEN exactly as a run would: GOLDEN is the
expected PNG, or a golden record (.json) for tiers 0-3 without its pixels.
Prints every tier's metrics with their thresholds and the verdict.

Exit status: 0 pass or pass~, 1 fail (a regression), 2 unreadable input or
bad usage.

Flags:
`

// compareFlags are regen compare's flags.
type compareFlags struct {
	json       bool
	strict     bool
	thresholds string
	diff       string
}

func compareCommand() command {
	return command{
		summary: "judge an output image against its golden (tiered, perceptual)",
		run:     runCompare,
	}
}

func runCompare(ctx context.Context, s Streams, args []string) error {
	if path := os.Getenv(compareTraceEnv); path != "" {
		stop, err := startTrace(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	var f compareFlags
	fs := newFlagSet("compare", s)
	fs.BoolVar(&f.json, "json", false, "print the result as JSON")
	fs.BoolVar(&f.strict, "strict", false, "fail when the pixels differ at all (pass~ becomes fail)")
	fs.StringVar(&f.thresholds, "thresholds", "", "JSON `file` of thresholds over the defaults (keys as in a golden record)")
	fs.StringVar(&f.diff, "diff", "", "write the difference heat-map to this PNG `file`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), compareUsage)
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) != 2 {
		return &usageError{msg: fmt.Sprintf("compare needs GOLDEN and OUTPUT, got %s", plural(len(paths), "argument", "arguments")),
			hint: "regen compare golden.png output.png"}
	}
	opts := compare.Options{Strict: f.strict, NoDiff: f.diff == ""}
	if f.thresholds != "" {
		th, err := readThresholds(f.thresholds)
		if err != nil {
			return err
		}
		opts.Thresholds = &th
	}
	golden, err := readGolden(paths[0])
	if err != nil {
		return err
	}
	out, err := os.ReadFile(paths[1])
	if err != nil {
		return fmt.Errorf("read output: %w", err)
	}
	res := compare.Compare(golden, compare.Input{PNG: out}, opts)
	if res.Verdict == compare.Error {
		return fmt.Errorf("compare %s with %s: %s", paths[0], paths[1], res.Reason)
	}
	if f.diff != "" {
		if err := writeDiff(s, f.diff, res, golden, out); err != nil {
			return err
		}
	}
	if f.json {
		err = printCompareJSON(s.Out, paths, res)
	} else {
		err = printCompareTable(s.Out, paths, res)
	}
	if err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	if res.Verdict == compare.Fail {
		return fmt.Errorf("%w: %s", ErrRegression, res.Reason)
	}
	return nil
}

// compareTraceEnv names a file for a runtime/trace of one compare (go tool
// trace FILE): where a whole-process compare waits, and on what. A hidden
// knob for profiling the comparator, not in -h.
const compareTraceEnv = "REGEN_COMPARE_TRACE"

// startTrace starts a runtime/trace into path; stop ends it and closes the
// file.
func startTrace(path string) (stop func(), err error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create trace: %w", err)
	}
	if err := trace.Start(fh); err != nil {
		fh.Close()
		return nil, fmt.Errorf("start trace: %w", err)
	}
	return func() {
		trace.Stop()
		fh.Close()
	}, nil
}

func readThresholds(path string) (compare.Thresholds, error) {
	fh, err := os.Open(path)
	if err != nil {
		return compare.Thresholds{}, fmt.Errorf("read thresholds: %w", err)
	}
	defer fh.Close()
	th, err := compare.LoadThresholds(fh)
	if err != nil {
		return compare.Thresholds{}, fmt.Errorf("read thresholds %s: %w", path, err)
	}
	return th, nil
}

// readGolden reads a golden PNG, or a golden record when the file is JSON.
func readGolden(path string) (compare.Input, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return compare.Input{}, fmt.Errorf("read golden: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		// A record committed under golden/ wraps the comparator's record
		// in its "compare" field; a bare comparator record is read as is.
		var wrapped struct {
			Compare json.RawMessage `json:"compare"`
		}
		if json.Unmarshal(data, &wrapped) == nil && len(wrapped.Compare) > 0 {
			data = wrapped.Compare
		}
		rec, err := compare.ReadRecord(bytes.NewReader(data))
		if err != nil {
			return compare.Input{}, fmt.Errorf("read golden record %s: %w", path, err)
		}
		return compare.Input{Record: rec}, nil
	}
	return compare.Input{PNG: data}, nil
}

// writeDiff writes the heat-map; when the pixels were identical Compare
// made none, so an all-quiet map is drawn here.
func writeDiff(s Streams, path string, res compare.Result, golden compare.Input, out []byte) error {
	img := res.Diff
	if img == nil && golden.PNG != nil {
		a, errA := png.Decode(bytes.NewReader(golden.PNG))
		b, errB := png.Decode(bytes.NewReader(out))
		if errA == nil && errB == nil {
			img = compare.DiffImage(a, b)
		}
	}
	if img == nil {
		fmt.Fprintf(s.Err, "regen compare: no heat-map written: %s\n", noDiffReason(res, golden))
		return nil
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("write heat-map: %w", err)
	}
	return nil
}

func noDiffReason(res compare.Result, golden compare.Input) string {
	if golden.Record != nil {
		return "the golden is a record without pixels"
	}
	if res.FailedTier == compare.FailSize {
		return "the sizes differ"
	}
	return "no pixels to compare"
}

// compareJSON is the --json document: the result with the inputs named.
type compareJSON struct {
	Golden string `json:"golden"`
	Output string `json:"output"`
	compare.Result
}

func printCompareJSON(w io.Writer, paths []string, res compare.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(compareJSON{Golden: paths[0], Output: paths[1], Result: res})
}

func printCompareTable(w io.Writer, paths []string, res compare.Result) error {
	fmt.Fprintf(w, "golden %s\noutput %s\n\n", paths[0], paths[1])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tSTATUS\tMETRIC\tVALUE\tTHRESHOLD\t")
	for _, tr := range res.Tiers {
		if len(tr.Metrics) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t%s\n", tr.Tier, tr.Status, tr.Note)
			continue
		}
		for i, m := range tr.Metrics {
			tier, status, note := "", "", ""
			if i == 0 {
				tier, status, note = tr.Tier, tr.Status, tr.Note
			}
			threshold, mark := "-", ""
			if m.Gated {
				threshold = formatMetric(m.Threshold)
				if m.Over {
					mark = " !"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\t%s\t%s\n", tier, status, m.Name, formatMetric(m.Value), mark, threshold, note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nverdict: %s — %s\n", res.Verdict, res.Reason)
	return err
}

func formatMetric(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}
