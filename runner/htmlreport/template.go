package htmlreport

import (
	"html/template"
	"strings"

	"github.com/regen-dev/regen/runner/report"
)

// verdictClass maps a verdict to its badge's CSS class.
func verdictClass(v report.Verdict) string {
	switch v {
	case report.Pass:
		return "pass"
	case report.PassApprox:
		return "approx"
	case report.New:
		return "new"
	case report.Fail:
		return "fail"
	case report.Skip:
		return "skip"
	}
	return "error"
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"vclass": verdictClass,
	"upper":  func(v report.Verdict) string { return strings.ToUpper(string(v)) },
}).Parse(pageHTML))

// pageHTML is the report page. Each part is its own named template
// ("totals", "panel", "metrics", "passing", "script"), so that a new
// section (a case's history, say) is one more {{define}} and one
// {{template}} call where it belongs.
const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>regen report {{.Run.Started.Format "2006-01-02 15:04:05"}}</title>
<style>
[hidden]{display:none !important}
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{margin:.2em 0}h2{margin:1.2em 0 .3em;font-size:1.15em}
code{font-size:12px}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:top}
#cases tr:nth-child(even){background:#f6f6f6}
.badge{display:inline-block;min-width:3.5em;text-align:center;border-radius:3px;padding:0 4px;font-weight:bold;font-size:12px;color:#fff}
.badge.pass{background:#2a7}.badge.approx{background:#7a3}.badge.new{background:#c80}
.badge.fail{background:#c22}.badge.error{background:#804}.badge.skip{background:#999}
.totals .tot{margin-right:1.4em;white-space:nowrap}.totals .tot b{margin-left:.3em}
.warn{background:#fff4d6;border:1px solid #e0b040;padding:.4em .8em;margin:.6em 0}
.filters button{margin-right:4px}.filters button.on{outline:2px solid #36c}
.panel{border-left:4px solid #ccc;margin:.6em 0 1.6em;padding:.2em 0 .2em .8em}
.panel.fail,.panel.error{border-color:#c22}.panel.approx{border-color:#7a3}.panel.new{border-color:#c80}
.imgs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.imgs figure{margin:0}
img.px{image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid #ccc;display:block;height:auto}
.sbs img.px{width:clamp(256px,30vw,512px);cursor:zoom-in}
.slider img.px,.blink img.px{width:clamp(384px,60vw,768px)}
.blink img.px{cursor:zoom-in}
.cmp{position:relative;display:inline-block;cursor:ew-resize;user-select:none}
.cmp img.top{position:absolute;left:0;top:0;clip-path:inset(0 50% 0 0)}
.cmp .bar{position:absolute;top:0;bottom:0;left:50%;width:2px;background:#f0f;pointer-events:none}
.tabs button{margin-right:4px}.tabs button.on{font-weight:bold;outline:2px solid #36c}
.over{color:#c22;font-weight:bold}
.metrics th.tier{background:#eee;padding-top:6px}.metrics td.note{color:#555}
.thumbs{display:flex;flex-wrap:wrap;gap:8px}.thumbs figure{margin:0;font-size:11px;max-width:120px;overflow-wrap:anywhere}
.thumbs img{image-rendering:pixelated;border:1px solid #ccc;display:block;cursor:zoom-in}
#zoom{position:fixed;inset:0;background:rgba(0,0,0,.85);display:flex;align-items:center;justify-content:center;cursor:zoom-out;z-index:10}
#zoom img{image-rendering:pixelated;width:min(95vw,95vh);height:auto;max-height:95vh;object-fit:contain}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:20em}
pre.err{white-space:pre-wrap;max-height:none}
</style></head><body>
<h1>regen report</h1>
<table class="meta">
<tr><th>commit</th><td><code>{{or .Run.Git.Commit "unknown"}}</code>{{if .Run.Git.Dirty}} <b class="over">dirty</b>{{end}}</td></tr>
<tr><th>environment</th><td><code>{{.Run.Environment}}</code> on <code>{{.Run.Target}}</code>{{if .Run.Strict}} (strict){{end}}{{if and .Run.TargetClass (ne .Run.TargetClass .Run.Environment)}}: judged across classes, a <code>{{.Run.TargetClass}}</code> target against the <code>{{.Run.Environment}}</code> goldens with thresholds calibrated for the pair{{end}}</td></tr>
<tr><th>executor</th><td>{{range .Fingerprint}}<code>{{.Key}}={{.Value}}</code> {{else}}unknown{{end}}</td></tr>
<tr><th>suite</th><td><code>{{.Run.Suite}}</code>{{if .Run.Filter}} filter <code>{{.Run.Filter}}</code>{{end}}, goldens <code>{{.Run.GoldenDir}}</code></td></tr>
<tr><th>started</th><td>{{.Run.Started.Format "2006-01-02 15:04:05 UTC"}}, {{printf "%.1f" .Run.WallSeconds}} s, concurrency {{.Run.Concurrency}}</td></tr>
<tr><th>totals</th><td>{{template "totals" .}}</td></tr>
</table>
{{if .Run.Error}}<p class="over">run error: {{.Run.Error}}</p>{{end}}
{{if .Warnings}}<div class="warn"><b>The goldens changed since this run:</b><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
{{if .FingerprintJSON}}<details><summary>executor /system_stats</summary><pre>{{.FingerprintJSON}}</pre></details>{{end}}

<h2>Cases</h2>
<p class="filters">show: <button class="on" data-show="">all</button><button data-show="fail">fail</button><button data-show="error">error</button><button data-show="new">new</button><button data-show="pass~">pass~</button><button data-show="pass">pass</button><button data-show="skip">skip</button>
<input id="q" type="search" placeholder="filter case ids" size="30"></p>
<table id="cases"><thead><tr><th>verdict</th><th>case</th><th>tier</th><th>key metric</th><th>time</th></tr></thead><tbody>
{{range .Rows}}<tr data-verdict="{{.Case.Verdict}}" data-id="{{.Case.ID}}"><td><span class="badge {{vclass .Case.Verdict}}">{{upper .Case.Verdict}}</span></td>
<td><a href="#{{.Anchor}}">{{.Case.ID}}</a>{{template "history-strip" .Case}}</td><td>{{.Case.Tier}}</td><td>{{.Key}}{{if .Case.Skip}}skipped: {{.Case.Skip}}{{end}}</td><td>{{.Time}}</td></tr>
{{end}}</tbody></table>

{{range .Panels}}{{template "panel" .}}{{end}}
{{template "passing" .}}
<div id="zoom" hidden><img alt="zoomed"></div>
{{template "script"}}
</body></html>

{{define "totals"}}<span class="totals"><span class="tot">{{len .Run.Cases}} cases</span>
{{range .Tally}}<span class="tot"><span class="badge {{vclass .Verdict}}">{{upper .Verdict}}</span><b>{{.N}}</b></span>
{{end}}</span>{{end}}

{{define "panel"}}{{$r := .}}<section class="panel {{vclass .Case.Verdict}}" id="{{.Anchor}}">
<h2><span class="badge {{vclass .Case.Verdict}}">{{upper .Case.Verdict}}</span> {{.Case.ID}}</h2>
{{range .Warnings}}<p class="warn">{{.}}</p>{{end}}
{{if .Reason}}<p>{{.Reason}}</p>{{end}}{{if .Case.Error}}<pre class="err over">{{.Case.Error}}</pre>{{end}}{{template "history-since" .Case}}
{{range $j, $o := .Outputs}}{{$id := printf "%s-%d" $r.Anchor $j}}<div class="output">
<p><b>{{.Out.File}}</b> (node {{.Out.Node}} #{{.Out.Index}}): <span class="badge {{vclass .Out.Verdict}}">{{upper .Out.Verdict}}</span>{{if .Out.Tier}} {{.Out.Tier}} —{{end}} {{.Reason}}</p>
{{if and .Expected .Actual}}<p class="tabs" data-for="{{$id}}">view: <button class="on" data-view="sbs">side by side</button><button data-view="slider">slider</button><button data-view="blink">blink</button> <small>click an image to zoom</small></p>{{end}}
<div class="imgs view sbs" id="{{$id}}-sbs">
{{if .Expected}}<figure><img class="px" id="{{$id}}-exp" src="{{.Expected}}" alt="expected"><figcaption>expected (golden{{if .Out.GoldenCopy}}, as judged{{end}})</figcaption></figure>{{end}}
{{if .Actual}}<figure><img class="px" id="{{$id}}-act" src="{{.Actual}}" alt="actual"><figcaption>actual</figcaption></figure>{{end}}
{{if .Diff}}<figure><img class="px" src="{{.Diff}}" alt="diff heat-map"><figcaption>diff heat-map</figcaption></figure>{{end}}
</div>
{{if and .Expected .Actual}}<div class="view slider" id="{{$id}}-slider" hidden><div class="cmp"><img class="px" data-from="{{$id}}-act" alt="actual"><img class="px top" data-from="{{$id}}-exp" alt="expected"><div class="bar"></div></div>
<p><input type="range" min="0" max="100" value="50"> left: expected, right: actual (drag on the image)</p></div>
<div class="view blink" id="{{$id}}-blink" hidden><img class="px" data-from="{{$id}}-exp" data-a="{{$id}}-exp" data-b="{{$id}}-act" alt="blink">
<p><span class="which">expected</span> <button class="toggle">pause</button></p></div>{{end}}
{{template "metrics" .}}
</div>{{end}}
</section>
{{end}}

{{define "metrics"}}{{if .Tiers}}<table class="metrics"><tr><th>metric</th><th>value</th><th>threshold</th></tr>
{{range .Tiers}}<tr><th class="tier" colspan="3">{{.Tier}}{{if .Status}} — {{.Status}}{{end}}</th></tr>
{{if .Note}}<tr><td class="note" colspan="3">{{.Note}}</td></tr>{{end}}
{{range .Metrics}}<tr{{if .Over}} class="over"{{end}}><td><code>{{.Name}}</code></td><td>{{.Value}}</td><td>{{if .Threshold}}≤ {{.Threshold}}{{end}}</td></tr>
{{end}}{{end}}</table>{{end}}{{end}}

{{define "passing"}}{{if .Passing}}<details id="passing"><summary><h2 style="display:inline">Passing cases ({{len .Passing}})</h2></summary>
{{range .Passing}}<div id="{{.Anchor}}"><p><span class="badge pass">PASS</span> {{.Case.ID}} <small>{{.Time}}</small></p>
{{range .Warnings}}<p class="warn">{{.}}</p>{{end}}
<div class="thumbs">{{range .Thumbs}}<figure><img src="{{.URI}}" alt="{{.Label}}"><figcaption>{{.Label}}</figcaption></figure>{{end}}</div></div>
{{end}}</details>{{end}}{{end}}

{{define "script"}}<script>
(function(){
  var $$ = function(sel, root){ return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  // Copies of an embedded image point at the one data URI.
  $$("img[data-from]").forEach(function(i){ var s = document.getElementById(i.dataset.from); if (s) i.src = s.src; });
  // Case table filters.
  var show = "", q = document.getElementById("q");
  function filter(){
    var text = q.value.toLowerCase();
    $$("#cases tbody tr").forEach(function(tr){
      var ok = (!show || tr.dataset.verdict === show) && tr.dataset.id.toLowerCase().indexOf(text) >= 0;
      tr.hidden = !ok;
    });
  }
  $$(".filters button").forEach(function(b){ b.onclick = function(){
    show = b.dataset.show; $$(".filters button").forEach(function(x){ x.classList.toggle("on", x === b); }); filter(); }; });
  q.oninput = filter;
  // Passing cases live in a collapsed section: open it when linked to.
  $$("#cases a").forEach(function(a){ a.addEventListener("click", function(){
    var t = document.querySelector(a.getAttribute("href")); var d = t && t.closest("details"); if (d) d.open = true; }); });
  // Views: one of side by side, slider, blink at a time.
  $$(".tabs").forEach(function(tabs){
    var id = tabs.dataset.for;
    $$("button", tabs).forEach(function(b){ b.onclick = function(){
      $$("button", tabs).forEach(function(x){ x.classList.toggle("on", x === b); });
      ["sbs", "slider", "blink"].forEach(function(v){ document.getElementById(id + "-" + v).hidden = v !== b.dataset.view; });
    }; });
  });
  $$(".slider").forEach(function(s){
    var cmp = s.querySelector(".cmp"), top = cmp.querySelector("img.top"), bar = cmp.querySelector(".bar"), r = s.querySelector("input");
    function set(v){ v = Math.max(0, Math.min(100, v)); r.value = v; top.style.clipPath = "inset(0 " + (100 - v) + "% 0 0)"; bar.style.left = v + "%"; }
    r.oninput = function(){ set(+r.value); };
    var drag = false;
    function move(e){ if (!drag) return; var b = cmp.getBoundingClientRect(); set(100 * (e.clientX - b.left) / b.width); }
    cmp.addEventListener("pointerdown", function(e){ drag = true; cmp.setPointerCapture(e.pointerId); move(e); });
    cmp.addEventListener("pointermove", move);
    cmp.addEventListener("pointerup", function(){ drag = false; });
  });
  $$(".blink").forEach(function(b){
    var img = b.querySelector("img"), which = b.querySelector(".which"), btn = b.querySelector(".toggle");
    var a = document.getElementById(img.dataset.a), c = document.getElementById(img.dataset.b), on = true, k = 0;
    function flip(){ k ^= 1; img.src = (k ? c : a).src; which.textContent = k ? "actual" : "expected"; }
    setInterval(function(){ if (on && !b.hidden) flip(); }, 600);
    btn.onclick = function(){ on = !on; btn.textContent = on ? "pause" : "play"; };
  });
  // Click an image to see it large (nearest-neighbour); click again to close.
  var zoom = document.getElementById("zoom"), zimg = zoom.querySelector("img");
  $$(".sbs img, .blink img, .thumbs img").forEach(function(i){ i.addEventListener("click", function(){ zimg.src = i.src; zoom.hidden = false; }); });
  zoom.onclick = function(){ zoom.hidden = true; };
  document.addEventListener("keydown", function(e){ if (e.key === "Escape") zoom.hidden = true; });
})();
</script>{{end}}
`
