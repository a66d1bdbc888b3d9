// Package history implements the record stage of regen's loop: every run's
// verdicts, metrics and output hashes, kept per git commit, so that a
// regression is reported per commit and the first bad commit can be named
// (and bisected).
//
// Store is the seam; its backends are subpackages, chosen explicitly by the
// caller (cmd/regen picks one from --history):
//
//	sqlite    the embedded default, a file (pure Go: CGO_ENABLED=0 builds stay static)
//	postgres  a server shared by many CI machines and the in-cluster CronJob
//
// Both share one SQL implementation (internal/sqlstore) with its schema
// migrations versioned in code; historytest.RunConformance holds them to
// the same behaviour. A store that is corrupt, written by a newer regen
// (ErrNewerSchema), or unreachable is an error that names it, never a
// silently created empty store.
//
// Timeline and Commits answer `regen history`; Transitions classifies what
// changed between two recorded commits (regressed, fixed, approved, changed).
package history
