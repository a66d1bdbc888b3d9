package htmlreport

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/regen-dev/regen/runner/report"
)

func TestHistoryStripAndSince(t *testing.T) {
	t.Parallel()
	r := &report.Run{Environment: "cpu", Cases: []report.Case{
		{ID: "a/seed=1", Workflow: "a", Verdict: report.Fail, Tier: "colour", Reason: "mean ΔE 9 > 2",
			Trend: []report.TrendPoint{{Commit: "c1aaaaaaaaaaaa", Verdict: "pass", Subject: "one"}, {Commit: "c2bbbbbbbbbbbb", Verdict: "fail", Subject: "two"}},
			Since: &report.Since{LastPass: "c1aaaaaaaaaaaa", LastPassSubject: "one", FirstFail: "c2bbbbbbbbbbbb", FirstFailSubj: "two"}},
		{ID: "b/seed=1", Workflow: "b", Verdict: report.Pass},
	}}
	var buf bytes.Buffer
	if err := Render(context.Background(), &buf, r, t.TempDir(), Options{}); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if n := strings.Count(doc, `class="history-strip"`); n != 1 {
		t.Errorf("%d history strips, want 1 (only the case with a trend)", n)
	}
	for _, want := range []string{`class="hs pass" title="c1aaaaaaaa pass: one"`, `class="hs fail" title="c2bbbbbbbb fail: two"`,
		`last passed at <code>c1aaaaaaaa</code> (one)`, `first failed at <code>c2bbbbbbbb</code> (two)`} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
