package runner

import (
	"context"
	"os/exec"
	"strings"

	"github.com/regen-dev/regen/runner/report"
)

// gitState returns the commit of the working tree at dir and whether it
// has uncommitted changes; both empty when git or the repository is absent.
func gitState(ctx context.Context, dir string) report.Git {
	var g report.Git
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return g
	}
	g.Commit = strings.TrimSpace(string(out))
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil {
		g.Dirty = len(strings.TrimSpace(string(st))) > 0
	}
	return g
}
