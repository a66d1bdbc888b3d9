package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/report"
)

// gitState returns the commit of the working tree at dir (with its parents,
// subject and author date) and whether it has uncommitted changes (then
// with a hash of `git diff HEAD`); empty when git or the repository is
// absent.
func gitState(ctx context.Context, dir string) report.Git {
	return GitState(ctx, dir)
}

// GitState is gitState for other packages (history import, bisect).
func GitState(ctx context.Context, dir string) report.Git {
	var g report.Git
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return g
	}
	g.Commit = strings.TrimSpace(string(out))
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%P%x00%s%x00%aI", "HEAD").Output(); err == nil {
		parts := strings.SplitN(strings.TrimRight(string(out), "\n"), "\x00", 3)
		if len(parts) == 3 {
			g.Parents, g.Subject = strings.Fields(parts[0]), parts[1]
			if t, err := time.Parse(time.RFC3339, parts[2]); err == nil {
				g.AuthorDate = t.UTC()
			}
		}
	}
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil {
		g.Dirty = len(strings.TrimSpace(string(st))) > 0
	}
	if g.Dirty {
		if d, err := exec.CommandContext(ctx, "git", "-C", dir, "diff", "HEAD").Output(); err == nil {
			sum := sha256.Sum256(d)
			g.DiffHash = hex.EncodeToString(sum[:])
		}
	}
	return g
}
