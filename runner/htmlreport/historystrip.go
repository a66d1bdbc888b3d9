package htmlreport

import "html/template"

// The history partials (issue 15), kept apart from the page so that the
// page's layout can change without touching them: "history-strip" draws a
// case's verdicts at the last recorded commits as small badges (the case's
// Trend, filled when the run was recorded with --history), and
// "history-since" names where a failing case last passed.
var _ = template.Must(pageTemplate.New("history-strip").Parse(historyStripHTML))

var _ = template.Must(pageTemplate.New("history-since").Parse(historySinceHTML))

const historyStripHTML = `{{if .Trend}}<span class="history-strip" title="last recorded commits, oldest first" style="display:inline-flex;gap:2px;margin-left:.6em;vertical-align:middle">
{{- range .Trend}}<span class="hs {{.Verdict}}" title="{{printf "%.10s" .Commit}} {{.Verdict}}: {{.Subject}}" style="display:inline-block;width:9px;height:14px;border-radius:2px;background:
{{- if eq .Verdict "pass"}}#2a7{{else if eq .Verdict "pass~"}}#7a3{{else if eq .Verdict "new"}}#c80{{else if eq .Verdict "fail"}}#c22{{else if eq .Verdict "skip"}}#999{{else}}#804{{end}}"></span>
{{- end}}</span>{{end}}`

const historySinceHTML = `{{with .Since}}<p class="history-since">history: {{if .LastPass}}last passed at <code>{{printf "%.10s" .LastPass}}</code> ({{.LastPassSubject}}){{else}}never passed in the recorded history{{end}};
{{if .FirstFail}}first failed at <code>{{printf "%.10s" .FirstFail}}</code> ({{.FirstFailSubj}}){{else}}first failed in this run{{end}}</p>{{end}}`
