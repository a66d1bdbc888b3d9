// Package compare implements regen's comparator: it judges an output image
// against its golden in tiers and says whether anything that matters changed.
//
// The tiers run in order and every one is recorded in Result.Tiers:
//
//	0 exact       dimensions + SHA-256 of the decoded 8-bit NRGBA pixels
//	1 provenance  the PNG "prompt" metadata (seed, sampler, scheduler, steps,
//	              cfg, denoise, model) against the golden's and the plan's
//	2 colour      OKLab means over the image and a 4×4 grid: ΔE of the
//	              global means, the systematic drift over the cells (cast)
//	              and the worst cell; ΔE is 100 × the OKLab distance. Alpha,
//	              invisible to OKLab, is a channel of its own: the change
//	              of its mean over the image and the worst cell (from the
//	              8-bit level statistics, [Levels]), when a side is not
//	              fully opaque. A signed bias per channel (R, G, B, alpha, in
//	              8-bit levels) measured against its spread over the cells
//	              (bias_z) catches systematic shifts too small for ΔE: a
//	              2 % gain of a dark channel. With both sides' pixels at
//	              hand, a per-pixel sign test per channel (drift_z: how
//	              many changed levels went up against down, on the
//	              golden's level edges) catches a gain or a hue rotation
//	              that moves the cell means by a fraction of a level
//	              (near-white, nearly grey images), which symmetric noise
//	              never does. A tier tripped by these alone ranks below
//	              every other tier, and drift_z names a tier's failure
//	              only when nothing else in it is over
//	3 structure   images4.EucMetric on the stretched (Icon) and unstretched
//	              (IconNN) icons (computed here as images4 computes them,
//	              in one sampling), and a 256-bit DCT perceptual hash; the
//	              stretched icon's channels and the hash are recorded but
//	              not gated where the unstretched icon spans less than
//	              icon_min_range levels (flat images: they measure noise)
//	4 local       per-pixel OKLab ΔE → mask → densest W×W window and global
//	              ratio (column sums over a ring of W rows, one pass; W at
//	              most an eighth of the shorter side); a
//	              pixel whose alpha moved by pixel_alpha_lsb levels is in
//	              the mask too
//
// When alpha changed and the primary tier's reason does not name it (the
// icons of tier 3 are premultiplied), the reason says so.
//
// Identical pixels pass ("pass"). Pixels that differ but stay within every
// threshold pass with a note ("pass~": determinism was lost; Options.Strict
// makes it a failure). Otherwise the case fails, and Result.FailedTier names
// the failure class: "size", "provenance", "structure", "colour" or "local", in
// that precedence when several tiers trip (structure outranks colour because
// a new composition moves every colour statistic). Result.Tripped lists all
// in tier order; Result.Trips lists them by how far each is over its
// threshold (the ratio of its worst metric), furthest first, and when more
// than one tripped the reason ends with that list, e.g.
// "; tripped: local (77× over), colour (12× over), structure (1.2× over)".
// Within a tier the reason names the metric furthest over its threshold.
//
// Tiers 0–3 need only a [Record] (all but drift_z, which needs pixels), the small JSON summary stored next to a
// golden, so a golden can be judged without its PNG. Thresholds are data
// ([Thresholds]): DefaultThresholds are calibrated on the synthetic edit
// table in the package tests, and a golden's record may carry its own.
//
// PNG files are decoded by internal/pngdecode straight into 8-bit NRGBA
// (its own inflate into the image's memory, rows unfiltered by vector
// kernels on amd64) when they are 8-bit grey, grey+alpha, RGB or RGBA and
// not interlaced (what generators write), else by image/png, which also
// decides every file pngdecode refuses: the pixels are the same either
// way. The two sides are decoded concurrently; when both fail, the
// output's error is the one reported. When both sides
// are judged from their pixels, one pass over the two gives both records'
// statistics and tier 4.
//
// The package imports neither the executor nor the runner: it judges the
// output of any ComfyUI-compatible server.
//
// Typical use by a runner:
//
//	rec, _ := compare.ReadRecord(goldenJSON)        // or NewRecord at approve time
//	res := compare.Compare(
//		compare.Input{Image: goldenImg, Record: rec},
//		compare.Input{PNG: outputBytes, Plan: plan}, // plan from ProvenanceFromPrompt
//		compare.Options{Thresholds: rec.Thresholds})
//	if !res.Verdict.Passed() { ... res.FailedTier, res.Reason, res.Diff ... }
package compare
