package history

import (
	"context"
	"sort"
)

// Kinds of Change.
const (
	Regressed = "regressed" // passed at the previous recorded commit, does not now
	Fixed     = "fixed"     // did not pass, passes now
	Approved  = "approved"  // passes against a golden that changed here: an intended update
	Changed   = "changed"   // same verdict, different output pixels
	Appeared  = "new"       // first recorded here
)

// Change is what happened to one case between two recorded commits.
type Change struct {
	Case string
	Kind string
	From *State // nil for Appeared
	To   State
}

// Passing reports whether a verdict counts as a pass.
func Passing(verdict string) bool { return verdict == "pass" || verdict == "pass~" }

// Diff lists, per case of cur (sorted by id), what changed since prev: the
// case's verdict or its output hash ("first seen here").
func Diff(prev, cur []State) []Change {
	before := make(map[string]*State, len(prev))
	for i := range prev {
		before[prev[i].Case] = &prev[i]
	}
	var out []Change
	for _, st := range cur {
		p := before[st.Case]
		var kind string
		switch {
		case p == nil:
			if prev == nil {
				continue // the first recorded commit: nothing to compare with
			}
			kind = Appeared
		case Passing(p.Verdict) && !Passing(st.Verdict) && st.Verdict != "skip":
			kind = Regressed
		case !Passing(p.Verdict) && Passing(st.Verdict):
			if st.GoldenHash != p.GoldenHash && st.GoldenHash != "" {
				kind = Approved
			} else {
				kind = Fixed
			}
		case Passing(st.Verdict) && st.GoldenHash != p.GoldenHash && st.GoldenHash != "" && p.GoldenHash != "":
			kind = Approved
		case st.OutputHash != p.OutputHash && st.OutputHash != "" && p.OutputHash != "":
			kind = Changed
		case p.Verdict != st.Verdict:
			kind = Changed
		default:
			continue
		}
		out = append(out, Change{Case: st.Case, Kind: kind, From: p, To: st})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Case < out[j].Case })
	return out
}

// Arrange orders recorded commits for display, oldest first. order is the
// first-parent history newest first (`git rev-list --first-parent REV`):
// recorded commits on it come in its order and the others are dropped. With
// no order, the commits keep their recording order.
func Arrange(commits []Commit, order []string) []Commit {
	if order == nil {
		return commits
	}
	byHash := make(map[string]Commit, len(commits))
	for _, c := range commits {
		byHash[c.Commit] = c
	}
	var out []Commit
	for i := len(order) - 1; i >= 0; i-- {
		if c, ok := byHash[order[i]]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Entry is one commit of `regen history`: its verdict counts and what
// changed since the previous recorded commit.
type Entry struct {
	Commit  Commit
	Counts  map[string]int
	Changes []Change
	// States are the cases' latest states at this commit.
	States []State
}

// Entries builds the history lines for commits (oldest first), from the
// states of each. The first line's changes compare with nothing.
func Entries(commits []Commit, states map[string][]State) []Entry {
	out := make([]Entry, 0, len(commits))
	var prev []State
	for _, c := range commits {
		cur := states[c.Commit]
		e := Entry{Commit: c, Counts: map[string]int{}, States: cur}
		for _, st := range cur {
			e.Counts[st.Verdict]++
		}
		e.Changes = Diff(prev, cur)
		out = append(out, e)
		prev = mergeStates(prev, cur)
	}
	return out
}

// mergeStates carries cases a filtered run did not replay forward, so that
// a partial run at one commit does not make every other case "new" at the
// next.
func mergeStates(prev, cur []State) []State {
	if prev == nil {
		return cur
	}
	seen := make(map[string]bool, len(cur))
	out := append([]State(nil), cur...)
	for _, st := range cur {
		seen[st.Case] = true
	}
	for _, st := range prev {
		if !seen[st.Case] {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Case < out[j].Case })
	return out
}

// LatestPerCommit reduces a case's timeline (oldest first) to its latest
// state per commit, arranged like Arrange (order nil: recording order).
func LatestPerCommit(tl []State, order []string) []State {
	last := map[string]State{}
	var seq []string
	for _, st := range tl {
		if _, ok := last[st.Commit]; !ok {
			seq = append(seq, st.Commit)
		}
		last[st.Commit] = st
	}
	if order != nil {
		seq = seq[:0]
		for i := len(order) - 1; i >= 0; i-- {
			if _, ok := last[order[i]]; ok {
				seq = append(seq, order[i])
			}
		}
	}
	out := make([]State, 0, len(seq))
	for _, c := range seq {
		out = append(out, last[c])
	}
	return out
}

// SinceOf returns, for a case's per-commit states (oldest first) ending at
// the current commit, the last commit where it passed and the first after
// that where it did not ("" when none).
func SinceOf(states []State) (lastPass, firstFail string) {
	i := len(states) - 1
	for i >= 0 && !Passing(states[i].Verdict) {
		i--
	}
	if i >= 0 {
		lastPass = states[i].Commit
	}
	if i+1 < len(states) {
		firstFail = states[i+1].Commit
	}
	return lastPass, firstFail
}

// Recent reads the last limit recorded commits (0: all) of st in the order
// Arrange gives them, each with its counts and what changed since the
// commit before it (which is read too, to compare with): `regen history`.
func Recent(ctx context.Context, st Store, q Query, order []string, limit int) ([]Entry, error) {
	commits, err := st.Commits(ctx, q)
	if err != nil {
		return nil, err
	}
	commits = Arrange(commits, order)
	from := 0
	if limit > 0 && len(commits) > limit+1 {
		from = len(commits) - limit - 1
	}
	commits = commits[from:]
	hashes := make([]string, len(commits))
	for i, c := range commits {
		hashes[i] = c.Commit
	}
	states, err := st.States(ctx, q, hashes)
	if err != nil {
		return nil, err
	}
	lines := Entries(commits, states)
	if from > 0 {
		lines = lines[1:] // only the baseline of the first line shown
	}
	return lines, nil
}

// CaseLine is one commit of a case's timeline.
type CaseLine struct {
	State
	// Transition is the Change kind from the previous line ("" if none).
	Transition string
}

// CaseHistory returns one case's timeline, one line per recorded commit
// (its latest state there), arranged like Arrange: `regen history --case`.
func CaseHistory(ctx context.Context, st Store, q Query, id string, order []string) ([]CaseLine, error) {
	tl, err := st.Timeline(ctx, q, id)
	if err != nil || len(tl) == 0 {
		return nil, err
	}
	states := LatestPerCommit(tl, order)
	out := make([]CaseLine, len(states))
	for i, s := range states {
		out[i] = CaseLine{State: s}
		if i > 0 {
			if ch := Diff(states[i-1:i], states[i:i+1]); len(ch) > 0 {
				out[i].Transition = ch[0].Kind
			}
		}
	}
	return out, nil
}
