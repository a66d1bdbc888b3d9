// Package variants implements `regen variants`: one workflow replayed over
// a matrix of samplers × schedulers (× steps × cfg) with a pinned seed, a
// labelled contact sheet of the outputs, and the matrix of perceptual
// distances between every pair of variants (the comparator's images4 icon
// distance, DCT hash bits, OKLab mean ΔE and local window ratio, plus the
// verdict the comparator would give), so a team sees how far apart the
// sampler variants land.
//
// The variants are planned as a one-workflow suite whose variants carry
// the overrides (runner/suite, runner/plan, harness/workflow), replayed by
// the runner on any target with no goldens (every case is "new" and kept
// as a candidate), and measured with harness/compare.
package variants
