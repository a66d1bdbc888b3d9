// Package golden implements regen's golden store: the committed golden
// images and their JSON records under golden/<environment class>/<workflow>/
// <case file>.{png,json}, and the approve step that promotes a finished
// run's candidates to goldens.
//
// Approve only touches outputs whose verdict was "new" or "fail" and whose
// case id the filter selects; a golden that passed (pass or pass~) is never
// rewritten, and a candidate whose PNG does not match its own record is
// refused. A golden's PNG and record change together or not at all, even
// when the approve is killed: see pair.go for the write order, and Recover
// (called by every approve and run) for how an interrupted one is finished
// and its temporary files removed. Load checks that a PNG holds the pixels
// its record describes.
//
// A record may carry calibrations (Calibration), keyed by the environment
// class of the target they were measured on: the thresholds regen golden
// calibrate set for this golden and their evidence. WriteCalibration
// rewrites the record alone, atomically and under the class's lock; an
// approve that replaces the golden writes the candidate's record, which has
// none (a new image needs a new calibration).
package golden
