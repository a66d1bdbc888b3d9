package golden

import (
	"fmt"
	"time"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
)

// Calibration is the evidence behind a golden's calibrated thresholds for
// one target class (see regen golden calibrate): how many replays were
// measured, the worst benign value of every gated metric, the thresholds
// set from them, and what each positive control measured under those
// thresholds.
type Calibration struct {
	// Target is the environment class of the target that was replayed.
	Target string `json:"target"`
	// Runs is the number of replays measured (N).
	Runs int `json:"runs"`
	// Factor is the multiple of the spread the thresholds were set at.
	Factor float64 `json:"factor"`
	// Spread is the worst value of each gated metric ("<tier>.<metric>")
	// over the replays, against the golden: the benign spread.
	Spread map[string]float64 `json:"spread"`
	// Thresholds are the calibrated thresholds: per metric the larger of
	// its floor (the thresholds the golden was judged with before) and
	// Factor × its spread.
	Thresholds compare.Thresholds `json:"thresholds"`
	// Floors are the thresholds the golden was judged with before (the
	// record's or the defaults, with the suite's overrides): no
	// calibrated threshold is below its floor.
	Floors compare.Thresholds `json:"floors"`
	// Controls are the positive controls, each judged under Thresholds.
	Controls []Control `json:"controls"`
	// Commit is the commit regen ran from (with "-dirty" when the tree
	// was), Date when the calibration finished.
	Commit string    `json:"commit,omitempty"`
	Date   time.Time `json:"date"`
}

// Control is one positive control: a synthetic regression of the golden
// (or another seed's output) judged under the calibrated thresholds.
type Control struct {
	// Name says what it is ("hue 3°", "seed+1").
	Name string `json:"name"`
	// Verdict is its verdict; a control must fail.
	Verdict string `json:"verdict"`
	// Margin is how far it is over the calibrated thresholds: the largest
	// value/threshold of any tripped metric (0 when it passed, or when
	// only a tier without a ratio tripped).
	Margin float64 `json:"margin"`
	// Tripped lists the tripped tiers, furthest over first.
	Tripped []string `json:"tripped,omitempty"`
	// Note says why a control was not applicable, when it was not.
	Note string `json:"note,omitempty"`
}

// SmallestMargin is the smallest Margin of the controls that failed with
// a ratio (0 when none did).
func (c *Calibration) SmallestMargin() (string, float64) {
	name, best := "", 0.0
	for _, ct := range c.Controls {
		if ct.Margin > 0 && (best == 0 || ct.Margin < best) {
			name, best = ct.Name, ct.Margin
		}
	}
	return name, best
}

// WriteCalibration stores cal in the record of a golden under its Target
// class, replacing an earlier calibration for that class and keeping
// every other. The record is rewritten atomically (a temporary file,
// synced, renamed), under the class's lock; the PNG is not touched, so the
// pair stays whole whatever happens.
func (s Store) WriteCalibration(workflow, file string, cal *Calibration) error {
	if cal == nil || cal.Target == "" {
		return fmt.Errorf("write calibration of %s/%s: no target class", workflow, file)
	}
	unlock, err := lockDir(s.Dir())
	if err != nil {
		return err
	}
	defer unlock()
	g, err := s.load(workflow, file)
	if err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	rec := g.Record
	if rec.Calibrations == nil {
		rec.Calibrations = map[string]*Calibration{}
	}
	rec.Calibrations[cal.Target] = cal
	b, err := rec.Encode()
	if err != nil {
		return err
	}
	if err := CheckPair(g.PNG, b); err != nil {
		return fmt.Errorf("write calibration of %s/%s: %w", workflow, file, err)
	}
	if err := atomicfile.WriteFile(s.RecordPath(workflow, file), b, 0o644); err != nil {
		return fmt.Errorf("write calibration of %s/%s: %w", workflow, file, err)
	}
	return nil
}

// LoadRecord reads the record of a golden (and checks its pair).
func (s Store) LoadRecord(workflow, file string) (*Record, error) {
	g, err := s.Load(workflow, file)
	if err != nil {
		return nil, err
	}
	return g.Record, nil
}
