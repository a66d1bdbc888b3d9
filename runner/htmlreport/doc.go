// Package htmlreport writes a run directory's report.html: one
// self-contained page (images as data: URIs, inline CSS and a little
// vanilla JavaScript, nothing fetched) with the run's header (commit,
// environment, executor fingerprint, totals, duration), a filterable table
// of every case, and for each case that is not an exact pass a panel with
// the expected, actual and diff heat-map images, side by side, a slider
// overlay and a blink toggle, and every tier metric against its threshold.
// Exact passes are collapsed to thumbnails to keep the file small.
//
// It reads only the run directory's results.json (runner/report's types),
// the candidate and diff PNGs the runner kept, and the goldens they name.
package htmlreport
