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

func TestHistoryStripThumbnails(t *testing.T) {
	t.Parallel()
	const thumb = "data:image/png;base64,iVBORw0KGgo="
	tests := []struct {
		name       string
		trend      []report.TrendPoint
		imgs, hs   int
		wantInPage string
	}{
		{"a kept output is a thumbnail", []report.TrendPoint{{Commit: "c1aaaaaaaaaa", Verdict: "pass", Thumb: thumb}},
			1, 0, `src="` + thumb + `" alt="pass" title="c1aaaaaaaa pass: `},
		{"no kept output is a badge", []report.TrendPoint{{Commit: "c1aaaaaaaaaa", Verdict: "fail"}},
			0, 1, `class="hs fail"`},
		{"mixed: thumbnail and badge side by side", []report.TrendPoint{{Commit: "c1", Verdict: "pass"}, {Commit: "c2", Verdict: "fail", Thumb: thumb}},
			1, 1, `border-bottom:3px solid #c22`},
		{"anything but a PNG data URI is dropped", []report.TrendPoint{{Commit: "c1", Verdict: "pass", Thumb: "javascript:alert(1)"}},
			0, 1, `class="hs pass"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &report.Run{Environment: "cpu", Cases: []report.Case{
				{ID: "a/seed=1", Workflow: "a", Verdict: report.Pass, Trend: tc.trend},
				{ID: "b/seed=1", Workflow: "b", Verdict: report.Pass},
			}}
			var buf bytes.Buffer
			if err := Render(context.Background(), &buf, r, t.TempDir(), Options{}); err != nil {
				t.Fatal(err)
			}
			doc := buf.String()
			if n := strings.Count(doc, `<img class="hs-thumb`); n != tc.imgs {
				t.Errorf("%d thumbnails, want %d", n, tc.imgs)
			}
			if n := strings.Count(doc, `<span class="hs `); n != tc.hs {
				t.Errorf("%d badges, want %d", n, tc.hs)
			}
			if !strings.Contains(doc, tc.wantInPage) {
				t.Errorf("page lacks %q", tc.wantInPage)
			}
			if strings.Contains(doc, "javascript:") {
				t.Error("an unsafe thumbnail URL reached the page")
			}
		})
	}
}
