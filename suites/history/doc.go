// Package history holds the Ginkgo spec of regen's record stage end to end
// (issue 15): a scratch repository whose twelve commits change a tiny
// ComfyUI-compatible executor (testdata/fakeexec) — a regression of a
// sampler constant in commit 7, a commit that does not build, an intended
// golden update in commit 10 — recorded commit by commit with `regen run
// --history`, read back with `regen history`, and bisected with `regen
// bisect`, which must name commit 7 without touching the working tree.
package history
