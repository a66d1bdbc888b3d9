// Package bisect finds the first commit at which selected cases stopped
// producing what a known-good commit produced (`regen bisect`).
//
// It never touches the user's working tree: candidates are checked out in
// a scratch clone (git clone --shared) in a temporary folder. For each
// candidate it runs the prepare command there (default: make build); a
// candidate that does not prepare is skipped, as `git bisect skip` does.
// It starts the candidate's own executor as a child process on a free
// loopback port and replays only the selected cases, judged with the usual
// tiers against the good commit's outputs (replayed once, then kept as
// the goldens of the bisect), not against today's goldens, which may have
// been re-approved since. Every step lands in the history (as source
// bisect:<good>), so a rerun answers from it without replaying.
package bisect
