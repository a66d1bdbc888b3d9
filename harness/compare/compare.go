package compare

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"runtime/trace"
	"slices"
	"strings"
	"sync"

	"github.com/vitali-fedulov/images4"

	"github.com/regen-dev/regen/harness/compare/internal/pngdecode"
)

// Input is one side of a comparison. Give at least one of Image, PNG or
// Record. For the golden side a Record alone is enough for tiers 0–3; tier
// 4 and the heat-map need pixels on both sides.
type Input struct {
	// Image is the decoded image; when nil, PNG is decoded.
	Image image.Image
	// PNG is the raw file, read for its "prompt" metadata (and decoded
	// when Image is nil).
	PNG []byte
	// Record is a precomputed record. When set it is trusted as is for
	// tiers 0–3 (its provenance included).
	Record *Record
	// Plan, optional, is the configuration this image was meant to follow
	// (ProvenanceFromPrompt of the submitted prompt). On the output side it
	// is checked against the output's metadata; on the golden side it
	// stands in for the golden's metadata when the golden has none.
	Plan *Provenance
}

func (in Input) empty() bool { return in.Image == nil && len(in.PNG) == 0 && in.Record == nil }

// Options tune a comparison.
type Options struct {
	// Thresholds overrides the golden record's thresholds; nil means the
	// record's, or DefaultThresholds when the record has none.
	Thresholds *Thresholds
	// Strict turns pass~ into a failure (class "exact"), for lanes that
	// must be bit-exact.
	Strict bool
	// NoDiff skips the heat-map.
	NoDiff bool
}

// Compare judges got against golden. It never returns an error: a side
// that cannot be read gives the Error verdict, a missing golden New.
//
// Tier 0 runs first and alone: both sides are decoded (concurrently) and
// their pixels compared, and an identical output costs one hash more. Only
// when the pixels differ are the sides analysed for tiers 1–4 (the hashes,
// then needed only for the records, finished beside that pass). Each side
// is hashed in steps while the other still decodes (pixelHasher).
func Compare(golden, got Input, opts Options) Result {
	res := Result{Thresholds: DefaultThresholds()}
	if got.empty() {
		return res.errorf("no output to judge")
	}
	var gold *decoded
	var goldErr error
	var wg sync.WaitGroup
	sameFile := golden.Image == nil && got.Image == nil && len(got.PNG) > 0 && bytes.Equal(golden.PNG, got.PNG)
	// Each side's hash is taken step by step (pixelHasher) by its own
	// goroutine once it is decoded, while the other side still decodes:
	// the core that finished first would be idle otherwise. Whatever is
	// left is finished only where it is needed: an identical pair takes
	// the hash that got further (the same pixels, the same sum); a pair
	// whose pixels differ finishes both beside the pass. A golden with a
	// record is hashed whole at once: the record must describe its pixels.
	goldDone := make(chan struct{}) // closed once the golden is decoded (and hashed, given a record)
	outDone := make(chan struct{})  // closed once the output is decoded
	var goldHash, outHash *pixelHasher
	if !golden.empty() && !sameFile {
		wg.Go(func() {
			r := trace.StartRegion(bg, "decode golden")
			gold, goldErr = decode(golden)
			if goldErr == nil && gold.px != nil && golden.Record != nil {
				goldErr = gold.setSum(pixelSHA256(gold.px))
			}
			r.End()
			close(goldDone)
			if goldErr == nil && gold.px != nil && gold.sum == "" {
				goldHash = newPixelHasher(gold.px)
				defer trace.StartRegion(bg, "hash golden while the output decodes").End()
				goldHash.until(outDone)
			}
		})
	} else {
		close(goldDone)
	}
	r := trace.StartRegion(bg, "decode output")
	out, err := decode(got)
	r.End()
	close(outDone)
	if err == nil && out.px != nil {
		outHash = newPixelHasher(out.px)
		r := trace.StartRegion(bg, "hash output while the golden decodes")
		outHash.until(goldDone)
		r.End()
	}
	wg.Wait()
	// When the pixels differ and neither side has a record to check
	// (both sides then go through analysePair), the hashes are for their
	// records alone: they are finished beside the pass (outSum), not
	// before.
	var outSum sync.WaitGroup
	differ := false
	if err == nil && out.px != nil {
		bothPixels := goldErr == nil && gold != nil && gold.px != nil
		switch {
		case bothPixels && samePixels(gold.px, out.px):
			sum := gold.sum
			if goldHash != nil {
				// The hash that got further, of the same bytes.
				h := outHash
				if goldHash.done > outHash.done {
					h = goldHash
				}
				sum = h.sum()
				gold.sum = sum
			}
			err = out.setSum(sum)
		case bothPixels && gold.in.Record == nil && out.in.Record == nil && gold.w == out.w && gold.h == out.h:
			differ = true
			outSum.Go(func() {
				defer trace.StartRegion(bg, "hash output").End()
				out.sum = outHash.sum()
			})
			if goldHash != nil {
				outSum.Go(func() {
					defer trace.StartRegion(bg, "hash golden").End()
					gold.sum = goldHash.sum()
				})
			}
		default:
			if goldHash != nil {
				gold.sum = goldHash.sum() // no record to check it against
			}
			err = out.setSum(outHash.sum())
		}
	}
	if err == nil && !differ && goldHash != nil && gold.sum == "" {
		// The output has no pixels (judged from its record).
		gold.sum = goldHash.sum()
	}
	if sameFile && err == nil {
		// The same file twice: the same pixels, decoded once.
		gold, goldErr = describe(golden, out.px, out.sum)
	}
	if err != nil {
		return res.errorf("read output: %v", err)
	}
	if golden.empty() {
		gotA, _, err := out.analyse(nil, Thresholds{})
		if err != nil {
			return res.errorf("read output: %v", err)
		}
		res.OutputRecord = gotA.rec
		res.Verdict, res.Reason = New, "no golden yet; approve this output to make it one"
		return res
	}
	if goldErr != nil {
		return res.errorf("read golden: %v", goldErr)
	}
	switch {
	case opts.Thresholds != nil:
		res.Thresholds = *opts.Thresholds
	case golden.Record != nil && golden.Record.Thresholds != nil:
		res.Thresholds = *golden.Record.Thresholds
	}
	if err := res.Thresholds.Validate(); err != nil {
		return res.errorf("%v", err)
	}
	if !differ && gold.w == out.w && gold.h == out.h && gold.sum == out.sum {
		rec, err := identicalRecord(golden.Record, got.PNG)
		if err != nil {
			return res.errorf("read output: %v", err)
		}
		res.OutputRecord = rec
		passIdentical(&res, out.w, out.h, out.sum)
		return res
	}
	// The pixels differ: analyse both sides for tiers 1–3, concurrently,
	// and measure tier 4 in the output's pass (it converts the output's
	// colours anyway), or beside it when the output's record is given.
	tier4 := gold.px != nil && out.px != nil && gold.w == out.w && gold.h == out.h
	var against *image.NRGBA
	if tier4 && out.in.Record == nil {
		against = gold.px
	}
	var loc *localStats
	if tier4 && against == nil {
		t := res.Thresholds
		wg.Go(func() {
			st := local(gold.px, out.px, t)
			loc = &st
		})
	}
	var goldA, gotA *analysed
	var gotLoc *localStats
	if against != nil && gold.in.Record == nil {
		// Both sides from their pixels: one pass over the two.
		goldA, gotA, gotLoc, goldErr, err = analysePair(gold, out, res.Thresholds, outSum.Wait)
	} else {
		outSum.Wait() // not hashed beside: this path is not taken then
		wg.Go(func() { goldA, _, goldErr = gold.analyse(nil, Thresholds{}) })
		gotA, gotLoc, err = out.analyse(against, res.Thresholds)
		wg.Wait()
	}
	if gotLoc != nil {
		loc = gotLoc
	}
	if err != nil {
		return res.errorf("read output: %v", err)
	}
	if goldErr != nil {
		return res.errorf("read golden: %v", goldErr)
	}
	res.OutputRecord = gotA.rec
	judge(&res, goldA, gotA, loc, golden.Plan, got.Plan, opts)
	return res
}

// bg is the context of the comparator's runtime/trace regions (free when
// no trace is running; REGEN_COMPARE_TRACE in regen compare starts one).
var bg = context.Background()

func (r Result) errorf(format string, args ...any) Result {
	r.Verdict, r.Reason = Error, fmt.Sprintf(format, args...)
	return r
}

// decoded is one side after tier 0's work: its pixels decoded (nil when
// judged from a record alone) and their hash.
type decoded struct {
	in   Input
	px   *image.NRGBA
	sum  string
	w, h int
}

// decode reads one side's pixels, or takes its size and hash from its
// record when it has no pixels. Pixels are hashed after (setSum): a
// record given with them must describe them.
func decode(in Input) (*decoded, error) {
	img := in.Image
	if img == nil && len(in.PNG) > 0 {
		px, err := decodePNG(in.PNG)
		if err != nil {
			return nil, err
		}
		img = px
	}
	if img == nil {
		if err := in.Record.Validate(); err != nil {
			return nil, err
		}
		return &decoded{in: in, sum: in.Record.SHA256, w: in.Record.Width, h: in.Record.Height}, nil
	}
	return describe(in, toNRGBA(img), "")
}

// samePixels reports whether a and b (either may be nil) are the same
// size with the same bytes.
func samePixels(a, b *image.NRGBA) bool {
	if a == nil || b == nil || a.Rect.Size() != b.Rect.Size() {
		return false
	}
	n := 4 * a.Rect.Dx() * a.Rect.Dy()
	return bytes.Equal(a.Pix[:n], b.Pix[:n])
}

// decodePNG decodes a PNG file to the comparator's pixel layout: with
// pngdecode, straight into NRGBA, for the files the harness writes and
// reads (8-bit grey, RGB, RGBA, not interlaced), else, or when pngdecode
// refuses the file, with image/png, which stays the judge of what a valid
// PNG is. Only pngdecode.ErrTooLarge is final: image/png would refuse that
// file too, after allocating the image its header claims.
func decodePNG(data []byte) (image.Image, error) {
	px, err := pngdecode.Decode(data)
	switch {
	case err == nil:
		return px, nil
	case errors.Is(err, pngdecode.ErrTooLarge):
		return nil, fmt.Errorf("decode png: %w", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode png: %w", err)
	}
	return img, nil
}

// describe is decode's result for in given its pixels px and their hash
// (empty: to be set with setSum).
func describe(in Input, px *image.NRGBA, sum string) (*decoded, error) {
	if in.Record != nil {
		if err := in.Record.Validate(); err != nil {
			return nil, err
		}
	}
	d := &decoded{in: in, px: px, w: px.Rect.Dx(), h: px.Rect.Dy()}
	if d.w == 0 || d.h == 0 {
		return nil, fmt.Errorf("analyse image: empty (%d×%d)", d.w, d.h)
	}
	if sum != "" {
		if err := d.setSum(sum); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// setSum sets the hash of d's pixels, which its record, if any, must
// carry: a record that does not describe the pixels (a PNG replaced
// without its record) would make tiers 0–3 judge other pixels than tier 4.
func (d *decoded) setSum(sum string) error {
	d.sum = sum
	if d.in.Record != nil && sum != d.in.Record.SHA256 {
		return fmt.Errorf("record does not match its image: sha256 %s… vs pixels %s…; re-approve the golden",
			d.in.Record.SHA256[:12], sum[:12])
	}
	return nil
}

// analyse completes a decoded side for tiers 1–4: its record, the given
// one or computed from the pixels in one pass, which also measures tier 4
// against golden when given (nil localStats otherwise).
func (d *decoded) analyse(golden *image.NRGBA, th Thresholds) (*analysed, *localStats, error) {
	switch {
	case d.px == nil:
		return &analysed{rec: d.in.Record}, nil, nil
	case d.in.Record != nil:
		// The golden side's derived data come from its record; its
		// pixels are for tier 4.
		a := &analysed{rec: d.in.Record, px: d.px}
		if a.rec.Colour.Levels == nil {
			// A record written before level statistics existed: its
			// pixels (the same: decode checked the hash) supply them.
			cp := *a.rec
			cp.Colour.Levels = levelStats(d.px)
			a.rec = &cp
		}
		return a, nil, nil
	}
	prov, err := provenanceFromPNG(d.in.PNG)
	if err != nil {
		return nil, nil, fmt.Errorf("read provenance: %w", err)
	}
	// decode hashed the pixels already.
	a, loc := analysePixels(d.px, d.sum, prov, golden, th)
	return a, loc, nil
}

// analysePair is analyse of both sides, both decoded from pixels of the
// same size and without a record, in one scan of the two (scanPair) that
// also measures tier 4 of got against gold; the icons are sampled beside
// it. goldErr and gotErr are each side's provenance error.
//
// summed returns once got's hash is set (it may be taken beside the pass).
func analysePair(gold, got *decoded, th Thresholds, summed func()) (goldA, gotA *analysed, loc *localStats, goldErr, gotErr error) {
	var gi, gri, oi, ori images4.IconT
	var wg sync.WaitGroup
	wg.Go(func() {
		defer trace.StartRegion(bg, "icons golden").End()
		gi, gri = icons(gold.px)
	})
	wg.Go(func() {
		defer trace.StartRegion(bg, "icons output").End()
		oi, ori = icons(got.px)
	})
	r := trace.StartRegion(bg, "scan pair")
	so, sg, loc := scanPair(got.px, gold.px, th, true)
	r.End()
	wg.Wait()
	summed()
	goldProv, goldErr := provenanceFromPNG(gold.in.PNG)
	gotProv, gotErr := provenanceFromPNG(got.in.PNG)
	if goldErr != nil || gotErr != nil {
		if goldErr != nil {
			goldErr = fmt.Errorf("read provenance: %w", goldErr)
		}
		if gotErr != nil {
			gotErr = fmt.Errorf("read provenance: %w", gotErr)
		}
		return nil, nil, nil, goldErr, gotErr
	}
	goldA = &analysed{rec: newRecord(gold.px, gold.sum, goldProv, sg, gi, gri), px: gold.px}
	gotA = &analysed{rec: newRecord(got.px, got.sum, gotProv, so, oi, ori), px: got.px}
	return goldA, gotA, loc, nil, nil
}

// identicalRecord is the record of an output whose pixels are identical to
// the golden's, without analysing them again: the golden record's
// pixel-derived fields (icons, hash, colour statistics: functions of the
// pixels alone) with the output's own provenance, as NewRecord would give.
// It is nil when the golden has no record (the output record is only kept
// for outputs that did not pass).
func identicalRecord(gold *Record, pngBytes []byte) (*Record, error) {
	if gold == nil {
		return nil, nil
	}
	prov, err := provenanceFromPNG(pngBytes)
	if err != nil {
		return nil, fmt.Errorf("read provenance: %w", err)
	}
	rec := *gold
	rec.Provenance, rec.Fingerprint, rec.Thresholds = prov, nil, nil
	return &rec, nil
}

// passIdentical is the verdict of identical pixels: tier 0 passes, the
// others are skipped.
func passIdentical(res *Result, w, h int, sum string) {
	res.Tiers = append(res.Tiers, TierResult{Tier: TierExact, Status: StatusPass,
		Metrics: []Metric{info("width", float64(w), "px"), info("height", float64(h), "px")},
		Note:    "pixels identical (sha256 " + sum[:12] + "…)"})
	for _, name := range []string{TierProvenance, TierColour, TierStructure, TierLocal} {
		res.Tiers = append(res.Tiers, TierResult{Tier: name, Status: StatusSkipped, Note: "pixels identical"})
	}
	res.Verdict, res.Reason = Pass, "exact: pixels identical"
}

// judge runs the tiers in order and sets the verdict; loc is tier 4's
// measurement, nil when the pixels were not at hand on both sides.
func judge(res *Result, gold, got *analysed, loc *localStats, goldPlan, gotPlan *Provenance, opts Options) {
	t := res.Thresholds
	g, o := gold.rec, got.rec
	sameSize := g.Width == o.Width && g.Height == o.Height
	exact := TierResult{Tier: TierExact, Status: StatusPass,
		Metrics: []Metric{info("width", float64(o.Width), "px"), info("height", float64(o.Height), "px")}}
	switch {
	case !sameSize:
		exact.Status = StatusFail
		exact.Note = fmt.Sprintf("size changed: golden %d×%d, output %d×%d", g.Width, g.Height, o.Width, o.Height)
		res.trip(FailSize, nil, false, "size: golden is %d×%d, output %d×%d", g.Width, g.Height, o.Width, o.Height)
	case g.SHA256 == o.SHA256:
		passIdentical(res, o.Width, o.Height, o.SHA256)
		return
	default:
		exact.Status = StatusDiffers
		exact.Note = fmt.Sprintf("pixels differ (sha256 %s… vs %s…)", g.SHA256[:12], o.SHA256[:12])
	}
	res.Tiers = append(res.Tiers, exact)
	res.Tiers = append(res.Tiers, provenanceTier(res, g, o, goldPlan, gotPlan))
	res.Tiers = append(res.Tiers, colourTier(res, g, o, loc, t))
	res.Tiers = append(res.Tiers, structureTier(res, g, o, t))
	local := localTier(res, gold, got, loc, t, sameSize)
	res.Tiers = append(res.Tiers, local)
	res.pickPrimary()
	alphaPx := 0
	if m := local.metric("alpha_changed_pixels"); m != nil {
		alphaPx = int(m.Value)
	}
	if note := alphaChange(g.Colour.Levels, o.Colour.Levels, alphaPx, t.PixelAlphaLSB); note != "" && len(res.Tripped) > 0 && !strings.Contains(res.Reason, "alpha") {
		// The primary tier may not measure alpha by name (the icons are
		// premultiplied): say that alpha changed.
		res.Reason += "; " + note
	}
	if sameSize && !opts.NoDiff && gold.px != nil && got.px != nil {
		res.Diff = heatMap(gold.px, toOKLab(gold.px), toOKLab(got.px))
	}
	switch {
	case len(res.Tripped) > 0:
		res.Verdict = Fail
		res.rankTrips()
	case opts.Strict:
		res.Verdict, res.FailedTier = Fail, FailExact
		res.Tripped = []string{FailExact}
		res.Tiers[0].Status = StatusFail
		res.Reason = "exact (strict): pixels differ, and this lane must be bit-exact"
	default:
		res.Verdict = PassApprox
		res.Reason = "pixels differ but every tier is within its threshold (determinism lost)"
	}
}

// precedence ranks the failure classes when several tiers trip. It follows
// the tier order except that structure outranks colour: a new composition
// (another seed, a broken sampler) moves every colour statistic, so colour
// tripping next to structure is a consequence, not the cause. It names the
// primary failure (FailedTier); Trips lists every tripped tier by how far
// it is over.
var precedence = map[string]int{
	FailSize: 0, FailProvenance: 1, FailStructure: 2, FailColour: 3, FailLocal: 4,
}

// weakRank is added to the precedence of a tier tripped only by a weak
// metric (the bias statistic): a systematic shift too small for any other
// metric is the weakest evidence, so any other tripped tier (a 2 px shift
// tripping local also moves the cell means the same way) names the
// failure.
const weakRank = 10

// weakMetrics are the metrics whose trip alone is weak.
var weakMetrics = map[string]bool{"bias_z": true, "drift_z": true}

// pendingTrip is a trip's rank and reason until judge picks the primary.
type pendingTrip struct {
	rank   int
	reason string
}

// trip records a tripped tier. m is the tier's gated metric furthest over
// its threshold, nil for the categorical tiers (size, provenance); weak
// marks a tier tripped only by weak metrics. pickPrimary names the
// failure.
func (r *Result) trip(class string, m *Metric, weak bool, format string, args ...any) {
	r.Tripped = append(r.Tripped, class)
	t := Trip{Class: class}
	if m != nil {
		t.Metric = m.Name
		t.Ratio = overRatio(*m)
	}
	r.Trips = append(r.Trips, t)
	rank := precedence[class]
	if weak {
		rank += weakRank
	}
	r.pending = append(r.pending, pendingTrip{rank: rank, reason: fmt.Sprintf(format, args...)})
}

// pickPrimary sets FailedTier and Reason from the highest-ranked trip
// (the first, in tier order, on a tie).
func (r *Result) pickPrimary() {
	best := -1
	for i, p := range r.pending {
		if best < 0 || p.rank < r.pending[best].rank {
			best = i
		}
	}
	if best >= 0 {
		r.FailedTier, r.Reason = r.Tripped[best], r.pending[best].reason
	}
	r.pending = nil
}

// rankTrips orders r.Trips by how far each tier is over its threshold
// (categorical trips first, then the ratio, highest first; ties keep the
// tier order) and, when several tiers tripped, appends the ranked list to
// the reason.
func (r *Result) rankTrips() {
	slices.SortStableFunc(r.Trips, func(a, b Trip) int {
		return cmp.Compare(tripKey(b), tripKey(a))
	})
	if len(r.Trips) > 1 {
		r.Reason += "; tripped: " + r.TripSummary()
	}
}

// tripKey sorts a trip: categorical (no ratio) above every ratio.
func tripKey(t Trip) float64 {
	if t.Ratio == 0 {
		return math.MaxFloat64
	}
	return t.Ratio
}

// tripMetrics trips class when a gated metric is over its threshold; the
// reason names the metric furthest over it.
func (r *Result) tripMetrics(tr *TierResult, class string) {
	if m := worstOver(tr.Metrics); m != nil {
		tr.Status = StatusFail
		weak := true
		for _, o := range tr.Metrics {
			weak = weak && (!o.Gated || !o.Over || weakMetrics[o.Name])
		}
		r.trip(class, m, weak, "%s: %s", class, m.describe())
		return
	}
	tr.Status = StatusPass
}

func provenanceTier(res *Result, g, o *Record, goldPlan, gotPlan *Provenance) TierResult {
	tr := TierResult{Tier: TierProvenance}
	gp := g.Provenance
	if gp == nil || gp.Error != "" {
		gp = goldPlan
	}
	switch {
	case o.Provenance == nil:
		tr.Status, tr.Note = StatusSkipped, "output has no prompt metadata"
		return tr
	case o.Provenance.Error != "":
		tr.Status, tr.Note = StatusFail, "output's prompt metadata is unreadable: "+o.Provenance.Error
		res.trip(FailProvenance, nil, false, "provenance: %s", tr.Note)
		return tr
	}
	refs := []struct {
		name string
		p    *Provenance
	}{{"plan", gotPlan}, {"golden", gp}}
	checked := 0
	for _, ref := range refs {
		if ref.p == nil {
			continue
		}
		checked++
		if field, msg := diffProvenance(ref.name, ref.p, o.Provenance); field != "" {
			tr.Status, tr.Note = StatusFail, msg
			res.trip(FailProvenance, nil, false, "provenance: %s", msg)
			return tr
		}
	}
	if checked == 0 {
		tr.Status, tr.Note = StatusSkipped, "golden has no prompt metadata and no plan was given"
		return tr
	}
	tr.Status = StatusPass
	tr.Note = fmt.Sprintf("%d sampler node(s) match", len(o.Provenance.Samplers))
	return tr
}

func colourTier(res *Result, g, o *Record, loc *localStats, t Thresholds) TierResult {
	tr := TierResult{Tier: TierColour}
	mean := deltaE(g.Colour.Global.Mean, o.Colour.Global.Mean)
	spread := deltaE(g.Colour.Global.Std, o.Colour.Global.Std)
	cell, worst := 0.0, 0
	for i := range g.Colour.Grid {
		if d := deltaE(g.Colour.Grid[i].Mean, o.Colour.Grid[i].Mean); d > cell {
			cell, worst = d, i
		}
		spread = math.Max(spread, deltaE(g.Colour.Grid[i].Std, o.Colour.Grid[i].Std))
	}
	tr.Metrics = []Metric{
		gated("mean_delta_e", mean, t.ColourMean, "ΔE×100"),
		gated("cast_delta_e", colourCast(g.Colour.Grid, o.Colour.Grid), t.ColourCast, "ΔE×100"),
		gated("cell_delta_e", cell, t.ColourCell, "ΔE×100"),
		info("spread_delta", spread, "ΔE×100"),
	}
	tr.Note = fmt.Sprintf("worst cell (%d,%d) of %d×%d", worst%gridSize, worst/gridSize, gridSize, gridSize)
	gl, ol := g.Colour.Levels, o.Colour.Levels
	switch {
	case gl == nil || ol == nil:
		tr.Note += "; alpha not judged: a record without level statistics (written before they existed)"
	default:
		if !gl.opaque() || !ol.opaque() {
			ms, aw := alphaMetrics(gl, ol, t)
			tr.Metrics = append(tr.Metrics, ms...)
			tr.Note += fmt.Sprintf("; alpha: worst cell (%d,%d)", aw%gridSize, aw/gridSize)
		}
		ms, note := biasMetrics(gl, ol, t)
		tr.Metrics = append(tr.Metrics, ms...)
		tr.Note += "; " + note
	}
	if loc != nil && g.Width == o.Width && g.Height == o.Height {
		ms, note := driftMetrics(loc, g.Width*g.Height, t)
		tr.Metrics = append(tr.Metrics, ms...)
		tr.Note += "; " + note
	}
	res.tripMetrics(&tr, FailColour)
	return tr
}

func structureTier(res *Result, g, o *Record, t Thresholds) TierResult {
	tr := TierResult{Tier: TierStructure}
	y, cb, cr := images4.EucMetric(g.Icon.IconT, o.Icon.IconT)
	ry, rcb, rcr := images4.EucMetric(g.IconRaw.IconT, o.IconRaw.IconT)
	bits, err := hammingHex(g.DCTHash, o.DCTHash)
	if err != nil {
		tr.Status, tr.Note = StatusFail, err.Error()
		res.trip(FailStructure, nil, false, "structure: %v", err)
		return tr
	}
	// The stretched icon is only meaningful where there was a range to
	// stretch: gate each channel on the smaller range of the two sides.
	gr, or := iconRange(g.IconRaw.IconT), iconRange(o.IconRaw.IconT)
	span := [3]float64{min(gr[0], or[0]), min(gr[1], or[1]), min(gr[2], or[2])}
	stretched := []Metric{
		gated("icon_y", y, t.IconY, "level²"),
		gated("icon_cb", cb, t.IconCbCr, "level²"),
		gated("icon_cr", cr, t.IconCbCr, "level²"),
	}
	// The DCT hash has the same weakness: its bits are the signs of the
	// luma's AC coefficients against their median, all ≈ 0 on a flat
	// image, so it is gated with the luma channel.
	hash := gated("hash_bits", float64(bits), float64(t.HashBits), "bits")
	var flat []string
	for i, m := range []*Metric{&stretched[0], &stretched[1], &stretched[2], &hash} {
		if span[i%3] < t.IconMinRange { // the hash (i = 3) goes with Y
			m.Gated = false // Over stays true to its definition; nothing trips on it
			flat = append(flat, m.Name)
		}
	}
	if len(flat) > 0 {
		tr.Note = fmt.Sprintf("%s not gated: the unstretched icon spans %s/%s/%s levels (Y/Cb/Cr), under icon_min_range %s, so they would measure noise",
			strings.Join(flat, ", "), formatValue(round2(span[0])), formatValue(round2(span[1])), formatValue(round2(span[2])), formatValue(t.IconMinRange))
	}
	tr.Metrics = []Metric{
		stretched[0], stretched[1], stretched[2],
		gated("raw_icon_y", ry, t.RawIconY, "level²"),
		gated("raw_icon_cb", rcb, t.RawIconCbCr, "level²"),
		gated("raw_icon_cr", rcr, t.RawIconCbCr, "level²"),
		hash,
		info("icon_range_y", span[0], "levels"),
		info("icon_range_cb", span[1], "levels"),
		info("icon_range_cr", span[2], "levels"),
	}
	res.tripMetrics(&tr, FailStructure)
	return tr
}

func localTier(res *Result, gold, got *analysed, loc *localStats, t Thresholds, sameSize bool) TierResult {
	tr := TierResult{Tier: TierLocal}
	switch {
	case !sameSize:
		tr.Status, tr.Note = StatusSkipped, "sizes differ"
		return tr
	case gold.px == nil:
		tr.Status, tr.Note = StatusSkipped, "golden pixels not available (record only)"
		return tr
	case got.px == nil || loc == nil:
		tr.Status, tr.Note = StatusSkipped, "output pixels not available (record only)"
		return tr
	}
	st := *loc
	win := localWindow(t.Window, gold.rec.Width, gold.rec.Height)
	tr.Metrics = []Metric{
		gated("window_ratio", st.windowRatio, t.WindowRatio, "fraction"),
		gated("global_ratio", st.globalRatio, t.GlobalRatio, "fraction"),
		info("changed_pixels", float64(st.changed), "px"),
		info("max_delta_e", st.maxDeltaE, "ΔE×100"),
	}
	if st.alphaChanged > 0 || st.maxAlpha > 0 {
		tr.Metrics = append(tr.Metrics,
			info("alpha_changed_pixels", float64(st.alphaChanged), "px"),
			info("max_alpha_delta", float64(st.maxAlpha), "levels"))
	}
	tr.Note = fmt.Sprintf("densest %d×%d window at (%d,%d); a pixel counts when ΔE > %s and a colour channel moved ≥ %d levels, or alpha moved ≥ %d levels",
		win, win, st.windowAt.X, st.windowAt.Y, formatValue(t.PixelDeltaE), t.PixelMinLSB, max(1, t.PixelAlphaLSB))
	res.tripMetrics(&tr, FailLocal)
	return tr
}
