// Package calibrate implements regen golden calibrate: it measures how far
// a target's replays of each case stray from the case's golden when
// nothing is wrong (the benign spread: GPU atomics, TF32, another
// backend), sets the case's thresholds at Factor times that spread (never
// below the floors the golden was judged with before), and proves them
// with positive controls — small synthetic regressions of the golden (hue
// 3°, red gain 2 %, blur σ 1, a 1 px shift, a 0.5 % patch) and the output
// of the next seed — every one of which must still fail. A case whose
// spread swallows a control is uncalibratable: it is reported with the
// numbers and nothing is written for it. The thresholds and their
// evidence go into the golden's record (golden.Calibration), under the
// target's environment class: the golden's own class, or another one
// judged across classes (--against).
package calibrate
