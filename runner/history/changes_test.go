package history

import (
	"reflect"
	"testing"
)

func st(c, commit, verdict, out, gold string) State {
	return State{Case: c, Commit: commit, Verdict: verdict, OutputHash: out, GoldenHash: gold}
}

func kinds(ch []Change) map[string]string {
	m := map[string]string{}
	for _, c := range ch {
		m[c.Case] = c.Kind
	}
	return m
}

func TestDiff(t *testing.T) {
	t.Parallel()
	prev := []State{st("a", "1", "pass", "o1", "g1"), st("b", "1", "fail", "o2", "g2"), st("c", "1", "pass", "o3", "g3"),
		st("d", "1", "pass", "o4", "g4"), st("e", "1", "fail", "o5", "g5"), st("f", "1", "pass", "o6", "g6")}
	tests := []struct {
		name string
		prev []State
		cur  []State
		want map[string]string
	}{
		{"first commit compares with nothing", nil, prev, map[string]string{}},
		{"nothing changed", prev, prev, map[string]string{}},
		{"every kind", prev, []State{
			st("a", "2", "fail", "x1", "g1"),  // regressed
			st("b", "2", "pass", "o2", "g2"),  // fixed (same golden)
			st("c", "2", "pass", "x3", "h3"),  // approved: passes against a new golden
			st("d", "2", "pass~", "x4", "g4"), // changed pixels, still passing
			st("e", "2", "pass", "x5", "h5"),  // fail -> pass against a new golden: approved
			st("f", "2", "error", "", "g6"),   // regressed
			st("z", "2", "pass", "o9", "g9"),  // new
		}, map[string]string{"a": Regressed, "b": Fixed, "c": Approved, "d": Changed, "e": Approved, "f": Regressed, "z": Appeared}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := kinds(Diff(tt.prev, tt.cur)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestArrangeAndEntries(t *testing.T) {
	t.Parallel()
	// Recorded out of order (a bisect recorded 3 after 5); 9 is on a
	// side branch.
	commits := []Commit{{Commit: "1"}, {Commit: "5"}, {Commit: "9"}, {Commit: "3"}}
	got := Arrange(commits, []string{"5", "4", "3", "2", "1"})
	var hs []string
	for _, c := range got {
		hs = append(hs, c.Commit)
	}
	if !reflect.DeepEqual(hs, []string{"1", "3", "5"}) {
		t.Errorf("Arrange = %v, want [1 3 5]", hs)
	}
	if got := Arrange(commits, nil); len(got) != 4 {
		t.Errorf("Arrange without order dropped commits: %v", got)
	}
	states := map[string][]State{
		"1": {st("a", "1", "pass", "o", "g"), st("b", "1", "pass", "p", "h")},
		"3": {st("a", "3", "fail", "x", "g")}, // a filtered run: b not replayed
		"5": {st("a", "5", "fail", "x", "g"), st("b", "5", "pass", "p", "h")},
	}
	es := Entries(got, states)
	if len(es) != 3 || es[0].Counts["pass"] != 2 || len(es[0].Changes) != 0 {
		t.Fatalf("entries: %+v", es)
	}
	if k := kinds(es[1].Changes); !reflect.DeepEqual(k, map[string]string{"a": Regressed}) {
		t.Errorf("commit 3 changes = %v", k)
	}
	if k := kinds(es[2].Changes); len(k) != 0 {
		t.Errorf("commit 5 changes = %v; b was carried over from 1, a still fails", k)
	}
}

func TestSinceOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		verdicts     string // one per commit c0, c1, …
		lastPass, ff string
	}{
		{"failing since c2", "ppfff", "c1", "c2"},
		{"never passed", "fff", "", "c0"},
		{"passes now", "pfp", "c2", ""},
		{"flaky history: the latest pass counts", "pfpff", "c2", "c3"},
		{"pass~ passes", "~f", "c0", "c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var states []State
			for i, v := range tt.verdicts {
				verdict := map[rune]string{'p': "pass", 'f': "fail", '~': "pass~"}[v]
				states = append(states, st("a", "c"+string(rune('0'+i)), verdict, "", ""))
			}
			lp, ff := SinceOf(states)
			if lp != tt.lastPass || ff != tt.ff {
				t.Errorf("SinceOf = %q, %q; want %q, %q", lp, ff, tt.lastPass, tt.ff)
			}
		})
	}
}

func TestLatestPerCommit(t *testing.T) {
	t.Parallel()
	tl := []State{st("a", "1", "pass", "", ""), st("a", "2", "pass", "", ""), st("a", "1", "fail", "", "")}
	got := LatestPerCommit(tl, nil)
	if len(got) != 2 || got[0].Verdict != "fail" || got[1].Commit != "2" {
		t.Errorf("recording order: %+v", got)
	}
	got = LatestPerCommit(tl, []string{"1", "2"}) // 1 is newer than 2
	if len(got) != 2 || got[0].Commit != "2" || got[1].Commit != "1" {
		t.Errorf("first-parent order: %+v", got)
	}
}
