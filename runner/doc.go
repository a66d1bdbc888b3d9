// Package runner implements regen's main job, the loop of the architecture
// page: plan (runner/plan) → target (runner/target) → replay
// (harness/client) → compare (harness/compare, goldens from runner/golden)
// → report (runner/report).
//
// Run replays every case of a suite on a target, concurrently up to a limit
// across the target's endpoints, judges each output image against its
// golden, keeps every output as a candidate (with a diff heat-map where it
// differs) in the run directory, and writes the run's record. The CLI
// (`regen run`) and the Ginkgo replay suite (suites/replay) both drive it;
// Prepare and Case let the suite run one case per spec with the same code.
package runner
