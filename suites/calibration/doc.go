// Package calibration is the Ginkgo suite of regen golden calibrate on a
// target that is not bit-exact: the cuda-emulated backend with
// --nondeterministic (GPU atomics' combine order, shuffled on every call),
// in process. On two small cases of the committed suite (128², the
// smallest size at which the default local tier can see a 0.5 % patch) it
//
//   - approves the target's own goldens, calibrates them (N replays),
//     then judges further runs: no false alarm, and every positive control
//     of every output fails with its tiers named;
//   - calibrates the same target against the committed CPU goldens
//     (--against cpu), judges it across classes with those thresholds:
//     no false alarm; and a deliberate sampler regression (a scratch copy
//     of the suite with another sampler) is still caught by a pixel tier.
//
// The emulator's arithmetic is minutes under the race detector: the specs
// skip under -race, and make test runs them once without it.
//
//	go test ./suites/calibration -v
//	go test ./suites/calibration -calibration.runs 5 -calibration.judged 20
package calibration
