package htmlreport

import (
	"html/template"
	"strings"
)

// The history partials (issue 15), kept apart from the page so that the
// page's layout can change without touching them: "history-strip" draws a
// case's verdicts at the last recorded commits as small badges (the case's
// Trend, filled when the run was recorded with --history), a thumbnail of
// the output instead of the badge where the history kept it
// (--history-images), and "history-since" names where a failing case last
// passed.
var _ = template.Must(pageTemplate.New("history-strip").Funcs(template.FuncMap{
	"thumbURL": thumbURL, "trendColour": trendColour,
}).Parse(historyStripHTML))

// thumbURL lets a thumbnail's PNG data URI through html/template's URL
// filter (which refuses data: URIs); anything else is dropped.
func thumbURL(s string) template.URL {
	if strings.HasPrefix(s, "data:image/png;base64,") {
		return template.URL(s)
	}
	return ""
}

// trendColour is a trend verdict's colour, as the badges of the page.
func trendColour(v string) template.CSS {
	switch v {
	case "pass":
		return "#2a7"
	case "pass~":
		return "#7a3"
	case "new":
		return "#c80"
	case "fail":
		return "#c22"
	case "skip":
		return "#999"
	}
	return "#804"
}

var _ = template.Must(pageTemplate.New("history-since").Parse(historySinceHTML))

const historyStripHTML = `{{if .Trend}}<span class="history-strip" title="last recorded commits, oldest first" style="display:inline-flex;gap:2px;margin-left:.6em;vertical-align:middle;align-items:flex-end">
{{- range .Trend}}{{if thumbURL .Thumb}}<img class="hs-thumb {{.Verdict}}" src="{{thumbURL .Thumb}}" alt="{{.Verdict}}" title="{{printf "%.10s" .Commit}} {{.Verdict}}: {{.Subject}}" style="display:block;max-width:48px;max-height:48px;image-rendering:pixelated;border-bottom:3px solid {{trendColour .Verdict}};border-radius:2px">
{{- else}}<span class="hs {{.Verdict}}" title="{{printf "%.10s" .Commit}} {{.Verdict}}: {{.Subject}}" style="display:inline-block;width:9px;height:14px;border-radius:2px;background:{{trendColour .Verdict}}"></span>{{end}}
{{- end}}</span>{{end}}`

const historySinceHTML = `{{with .Since}}<p class="history-since">history: {{if .LastPass}}last passed at <code>{{printf "%.10s" .LastPass}}</code> ({{.LastPassSubject}}){{else}}never passed in the recorded history{{end}};
{{if .FirstFail}}first failed at <code>{{printf "%.10s" .FirstFail}}</code> ({{.FirstFailSubj}}){{else}}first failed in this run{{end}}</p>{{end}}`
