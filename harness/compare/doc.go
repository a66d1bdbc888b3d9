// Package compare implements regen's comparator: it judges an output image
// against its golden in tiers and says whether anything that matters changed.
//
// The tiers run in order and every one is recorded:
//
//	0 exact       dimensions + SHA-256 of the decoded 8-bit NRGBA pixels
//	1 provenance  the PNG "prompt" metadata (seed, sampler, scheduler, steps,
//	              cfg, denoise, model) against the golden's and the plan's
//	2 colour      OKLab mean/spread over the image and a 4×4 grid (ΔE×100)
//	3 structure   images4.EucMetric on the stretched and unstretched icons,
//	              and a 256-bit DCT perceptual hash
//	4 local       per-pixel OKLab distance → mask → densest W×W window and
//	              global ratio (summed-area table)
//
// A case whose pixels are identical passes ("pass"); one that differs but
// stays within every threshold passes with a note ("pass~", determinism was
// lost); otherwise it fails with the failure class of the first tier that
// tripped: "size", "config", "colour", "structure" or "local".
//
// Tiers 0–3 need only a [Record], the small JSON summary stored next to a
// golden, so a golden can be judged without its PNG. Thresholds are data
// ([Thresholds]), calibrated per golden and stored in its record.
//
// The package imports neither the executor nor the runner: it judges the
// output of any ComfyUI-compatible server.
package compare
