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
