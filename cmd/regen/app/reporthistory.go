//go:build !regenfast

package app

import (
	"bytes"
	"context"
	"fmt"

	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/images"
	"github.com/regen-dev/regen/runner/historyreport"
)

// reportHistory is `regen report history`: history.html from the store.
func reportHistory(ctx context.Context, s Streams, args []string) error {
	var f historyFlags
	var out, imgDir string
	fs := f.bind("report history", s)
	fs.StringVar(&out, "out", historyreport.File, "output file")
	fs.StringVar(&imgDir, "images", "", "the folder of kept images (regen run --history-images): thumbnails of the outputs in the cases' strips")
	fs.IntVar(&f.limit, "limit", 50, "the last N recorded commits (0: all)")
	fs.StringVar(&f.rev, "rev", "HEAD", "order commits along the first-parent history of this revision")
	fs.StringVar(&f.repo, "repo", ".", "git repository the commits belong to (without git: recording order)")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: regen report history [--history PATH|postgres://…] [--images DIR] [--out FILE] [--limit N]")
		fmt.Fprintln(s.Err, "\nWrites one self-contained HTML page: per commit its verdict counts and what changed there,")
		fmt.Fprintln(s.Err, "per case its verdicts and metrics over the commits (inline SVG plots).")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &usageError{msg: fmt.Sprintf("report history: unexpected argument %q", rest[0]), hint: "regen report history --history out/history.db"}
	}
	if f.store == "" {
		return &usageError{msg: "report history: no history store given", hint: "regen report history --history out/history.db (or set $" + HistoryEnv + ")"}
	}
	st, err := openHistory(ctx, f.store, false)
	if err != nil {
		return fmt.Errorf("report history: %w", err)
	}
	defer st.Close()
	order, oerr := firstParent(f.repo, f.rev)(ctx)
	if oerr != nil {
		order = nil
	}
	entries, err := history.Recent(ctx, st, history.Query{Environment: f.env}, order, f.limit)
	if err != nil {
		return fmt.Errorf("report history: %w", err)
	}
	opts := historyreport.Options{Store: st.Describe()}
	if imgDir != "" {
		th := &history.Thumbs{Store: st, Images: images.Store{Dir: imgDir}}
		warned := false
		opts.Thumb = func(state history.State) string {
			uri, err := th.Of(ctx, state)
			if err != nil && !warned { // a badge instead; say so once
				fmt.Fprintf(s.Err, "warning: report history: thumbnails: %v\n", err)
				warned = true
			}
			return uri
		}
	}
	var buf bytes.Buffer
	if err := historyreport.Render(&buf, entries, opts); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write history report: %w", err)
	}
	fmt.Fprintln(s.Out, "report:", out)
	return nil
}
