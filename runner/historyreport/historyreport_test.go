package historyreport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/runner/history"
)

func TestRender(t *testing.T) {
	t.Parallel()
	st := func(c, commit, v string, de float64) history.State {
		s := history.State{Case: c, Commit: commit, Verdict: v, Subject: "subject " + commit}
		if v != "pass" {
			s.Metrics = map[string]float64{"colour.mean_delta_e": de}
		}
		return s
	}
	c1 := []history.State{st("a", "c1", "pass", 0), st("b", "c1", "pass", 0)}
	c2 := []history.State{st("a", "c2", "fail", 4.5), st("b", "c2", "pass", 0)}
	entries := history.Entries([]history.Commit{{Commit: "c1", Subject: "first <one>"}, {Commit: "c2", Subject: "second"}},
		map[string][]history.State{"c1": c1, "c2": c2})
	var buf bytes.Buffer
	if err := Render(&buf, entries, Options{Store: "h.db", Now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	for _, want := range []string{
		"2 recorded commit(s) from <code>h.db</code>",
		"first &lt;one&gt;", // escaped
		`<span class="kind regressed">regressed</span><code>a</code>`,
		"colour.mean_delta_e 0…4.5",
		"identical to its golden at every commit", // b
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i, j := strings.Index(doc, "second"), strings.Index(doc, "first &lt;one&gt;"); i < 0 || j < 0 || i > j {
		t.Errorf("commits are not newest first")
	}
	if strings.Contains(doc, "http://") || strings.Contains(doc, "https://") {
		t.Errorf("the page fetches something")
	}
}

func TestRenderThumbnails(t *testing.T) {
	t.Parallel()
	const thumb = "data:image/png;base64,iVBORw0KGgo="
	var commits []history.Commit
	states := map[string][]history.State{}
	for _, c := range []string{"c1", "c2", "c3"} {
		commits = append(commits, history.Commit{Commit: c, Subject: "subject " + c})
		states[c] = []history.State{{Case: "a", Commit: c, Verdict: "pass", RunID: "r" + c}, {Case: "b", Commit: c, Verdict: "pass", RunID: "r" + c}}
	}
	entries := history.Entries(commits, states)
	// a's output was kept at c2 and c3, b's never; one URI is not a PNG.
	kept := func(st history.State) string {
		switch {
		case st.Case == "a" && st.Commit != "c1":
			return thumb
		case st.Case == "b" && st.Commit == "c3":
			return `data:image/png;base64,x"><script>`
		}
		return ""
	}
	tests := []struct {
		name         string
		opts         Options
		imgs, badges int
	}{
		{"no images kept: badges only", Options{}, 0, 0},
		{"thumbnails where kept, a badge where not", Options{Thumb: kept}, 2, 1},
		{"capped per case", Options{Thumb: kept, MaxThumbs: 1}, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Render(&buf, entries, tc.opts); err != nil {
				t.Fatal(err)
			}
			doc := buf.String()
			if n := strings.Count(doc, `<img class="thumb" src="`+thumb+`"`); n != tc.imgs {
				t.Errorf("%d thumbnails, want %d", n, tc.imgs)
			}
			if n := strings.Count(doc, `<span class="badge"`); n != tc.badges {
				t.Errorf("%d badges beside thumbnails, want %d", n, tc.badges)
			}
			// b kept nothing usable: its row stays the badge strip.
			if strings.Contains(doc, "<script>") {
				t.Error("an unsafe thumbnail reached the page")
			}
			if n := strings.Count(doc, `<tr><td><code>`); n != 2 {
				t.Errorf("%d case rows, want 2", n)
			}
		})
	}
}
