package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regen-dev/regen/runner/htmlreport"
	"github.com/regen-dev/regen/runner/report"
)

// ErrRunDirNotEmpty is returned (wrapped) when the run directory holds
// files that no run wrote.
var ErrRunDirNotEmpty = errors.New("the report directory is not empty")

// ownEntry reports whether name is something a run writes at the top of
// its run directory.
func ownEntry(name string) bool {
	switch name {
	case report.ResultsFile, report.JUnitFile, report.SummaryFile, htmlreport.File, CandidatesDir, JudgedDir, "cluster":
		return true
	}
	return strings.HasPrefix(name, "executor-") || strings.HasPrefix(name, ".regen-tmp-")
}

// PrepareRunDir makes dir ready for a run; call it before the run's target
// starts (a local target keeps its executor folders in the run directory),
// as regen run does. Run does not call it. A new or empty directory is
// used as is. A directory that a previous run wrote is reused: what that
// run wrote (results, reports, candidates, judged goldens, executor
// folders) is removed first, so that none of its candidates sits beside
// the new results and is approved by mistake; it returns the names
// removed. A directory holding anything else is refused: regen deletes
// only what it wrote itself.
func PrepareRunDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(ents) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read report directory: %w", err)
	}
	var own, other []string
	for _, e := range ents {
		if ownEntry(e.Name()) {
			own = append(own, e.Name())
		} else {
			other = append(other, e.Name())
		}
	}
	if len(other) > 0 {
		if len(other) > 3 {
			other = append(other[:3:3], "…")
		}
		return nil, fmt.Errorf("%w: %s holds %s, which no regen run wrote; give --report a new or empty directory",
			ErrRunDirNotEmpty, dir, strings.Join(other, ", "))
	}
	for _, name := range own {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("clean report directory: %w", err)
		}
	}
	return own, nil
}
