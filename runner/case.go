package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
)

// output is one image a replay produced.
type output struct {
	Node  string
	Index int
	PNG   []byte
}

// Case replays one case on endpoint ep (an index into Endpoints) and
// judges its outputs. It never fails: problems become the case's verdict.
func (s *Session) Case(ctx context.Context, c plan.Case, ep int) (rc report.Case) {
	start := time.Now()
	rc = newCase(c)
	defer func() { rc.TotalSeconds = time.Since(start).Seconds() }()
	switch {
	case c.Skip != "":
		rc.Verdict, rc.Skip = report.Skip, c.Skip
		return rc
	case c.Err != nil:
		rc.Verdict, rc.Error = report.Error, "plan: "+c.Err.Error()
		return rc
	}
	rc.Endpoint = s.endpoints[ep].Name
	promptJSON, err := json.Marshal(c.Prompt)
	if err != nil {
		rc.Verdict, rc.Error = report.Error, fmt.Sprintf("encode prompt: %v", err)
		return rc
	}
	timeout := s.caseTimeout(c)
	var (
		promptID string
		outs     []output
		first    error
		cause    string
	)
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		promptID, outs, err = s.replay(rctx, c, ep)
		cancel()
		// Validation is deterministic: the same prompt is rejected the same
		// way. Anything else (unreachable, reset, an execution error such as
		// a busy device, a 500) may be transient and is retried.
		var verr *client.ValidationError
		retryable := err != nil && !errors.As(err, &verr)
		if err == nil && len(outs) == 0 {
			err, retryable = errors.New("the prompt produced no images"), false
		}
		if err != nil && first == nil {
			first, cause = err, connectionCause(err)
			if cause == causeRefused && promptID != "" {
				// It took the prompt, then went away: the connection was
				// dropped mid-case, whatever the next request met.
				cause = causeDropped
			}
			if cause == causeDropped {
				s.dropped.CompareAndSwap(nil, &droppedAt{endpoint: rc.Endpoint, caseID: c.ID})
			}
		}
		rc.Attempts = attempt + 1
		if err == nil || !retryable || attempt >= s.opts.Retries || ctx.Err() != nil {
			break
		}
		// An infrastructure failure (never a verdict) is retried after a
		// pause that doubles each time; the record keeps what went wrong.
		rc.Retried = append(rc.Retried, err.Error())
		wait := retryWait(s.opts.RetryBackoff, attempt)
		s.log.Debug("replay failed; retrying", "case", c.ID, "endpoint", rc.Endpoint, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	rc.PromptID = promptID
	rc.ReplaySeconds = time.Since(start).Seconds()
	if err != nil {
		rc.Verdict, rc.Error = report.Error, s.replayError(first, cause, err, rc.Attempts)
		s.log.Debug("replay failed", "case", c.ID, "endpoint", rc.Endpoint, "err", err)
		return rc
	}
	cstart := time.Now()
	want, err := compare.ProvenanceFromPrompt(promptJSON)
	if err != nil {
		rc.Verdict, rc.Error = report.Error, fmt.Sprintf("read plan provenance: %v", err)
		return rc
	}
	sum := sha256.Sum256(promptJSON)
	prov := golden.Provenance{
		Commit: s.git.Commit, Dirty: s.git.Dirty, Run: filepath.Base(s.opts.RunDir),
		Produced: time.Now().UTC().Truncate(time.Second), PromptHash: hex.EncodeToString(sum[:]),
	}
	produced := map[string]bool{}
	for _, o := range outs {
		file := c.File(o.Node, o.Index)
		produced[file] = true
		out := s.judge(c, o, file, want, prov)
		rc.Outputs = append(rc.Outputs, out)
	}
	rc.Outputs = append(rc.Outputs, s.vanished(c, produced)...)
	for _, o := range rc.Outputs {
		if v := report.Worse(rc.Verdict, o.Verdict); v != rc.Verdict {
			rc.Verdict, rc.Tier, rc.Reason = v, o.Tier, o.Reason
		}
	}
	rc.CompareSeconds = time.Since(cstart).Seconds()
	return rc
}

// judge compares one output with its golden and keeps the candidate files
// (for anything but an identical pass).
func (s *Session) judge(c plan.Case, o output, file string, want *compare.Provenance, prov golden.Provenance) report.Output {
	out := report.Output{Node: o.Node, Index: o.Index, File: file}
	fail := func(format string, args ...any) report.Output {
		out.Verdict, out.Reason = report.Error, fmt.Sprintf(format, args...)
		return out
	}
	got := compare.Input{PNG: o.PNG, Plan: want}
	var gold compare.Input
	var calibrated *compare.Thresholds
	base := compare.DefaultThresholds()
	g, err := s.store.Load(c.Workflow, file)
	switch {
	case errors.Is(err, golden.ErrMissing):
	case err != nil:
		return fail("%v", err)
	default:
		rec, err := compare.ReadRecord(bytes.NewReader(g.Record.Compare))
		if err != nil {
			return fail("golden %s: %v", s.store.RecordPath(c.Workflow, file), err)
		}
		if rec.Thresholds != nil {
			base = *rec.Thresholds
		}
		if cal := g.Record.Calibrations[s.targetClass]; cal != nil {
			calibrated = &cal.Thresholds
		} else if s.targetClass != s.store.Class {
			return fail("no thresholds calibrated for judging class %s against the %s golden %s: thresholds set for bit-exact replays would judge it, "+
				"so it is not judged; run `regen golden calibrate --against %s` on this target first",
				s.targetClass, s.store.Class, s.store.RecordPath(c.Workflow, file), s.store.Class)
		}
		gold = compare.Input{PNG: g.PNG, Record: rec}
		out.Golden = s.store.PNGPath(c.Workflow, file)
		gsum := sha256.Sum256(g.PNG)
		out.GoldenSHA256 = hex.EncodeToString(gsum[:])
		out.GoldenHash = rec.SHA256
	}
	th := base
	if err := c.Thresholds.Apply(&th); err != nil {
		return fail("suite thresholds for %s: %v", c.Workflow, err)
	}
	if calibrated != nil {
		// The calibration started from these floors (suite thresholds
		// included) and only widened them: it is the whole truth.
		th = *calibrated
	}
	res := compare.Compare(gold, got, compare.Options{Thresholds: &th, Strict: s.strict})
	if res.FailedTier == compare.FailExact && s.laneStrict && !s.opts.Strict {
		res.Reason = fmt.Sprintf("exact (strict lane): pixels differ, and the suite's lanes make class %s strict: a pass~ on it is a failure", s.targetClass)
	}
	out.Verdict = report.Verdict(res.Verdict)
	out.Tier, out.Reason = res.FailedTier, res.Reason
	for _, tp := range res.Trips {
		out.Tripped = append(out.Tripped, tp.String())
	}
	if res.OutputRecord != nil {
		out.PixelHash = res.OutputRecord.SHA256
	}
	if out.Tier == "" && res.Verdict == compare.Pass {
		out.Tier = compare.TierExact
	}
	if m := res.KeyMetric(); m != nil {
		out.Key = &report.Metric{Name: m.Name, Value: finite(m.Value), Threshold: finite(m.Threshold)}
		if res.Verdict == compare.PassApprox {
			// The tier closest to tripping names a pass~.
			out.Tier = tierOf(&res, m)
		}
	}
	out.Metrics, out.Thresholds = flatten(&res)
	if b, err := json.Marshal(res); err == nil {
		out.Compare = b
	}
	if res.Verdict == compare.Pass {
		return out
	}
	// Keep the candidate: PNG, its golden record, and the diff heat-map;
	// and the golden it was judged against, for a report made later.
	if err := s.writeCandidate(c, o, file, &out, res.OutputRecord, th, prov); err != nil {
		out.Verdict = report.Error
		out.Reason = strings.TrimSpace(out.Reason + "; " + err.Error())
		return out
	}
	if g != nil {
		if err := s.keepGolden(c, file, g, &out); err != nil {
			s.log.Warn("keep a copy of the judged golden", "case", c.ID, "err", err)
		}
	}
	if res.Diff != nil {
		var buf bytes.Buffer
		if err := png.Encode(&buf, res.Diff); err == nil {
			rel := candidatePath(c.Workflow, file, ".diff.png")
			if err := atomicfile.WriteFile(filepath.Join(s.opts.RunDir, rel), buf.Bytes(), 0o644); err == nil {
				out.Diff = rel
			}
		}
	}
	return out
}

func (s *Session) writeCandidate(c plan.Case, o output, file string, out *report.Output, analysed *compare.Record, th compare.Thresholds, prov golden.Provenance) error {
	if analysed == nil {
		return errors.New("keep candidate: the output could not be analysed")
	}
	crec := *analysed
	crec.Fingerprint = s.finger
	if len(c.Thresholds) > 0 {
		crec.Thresholds = &th
	}
	cb, err := json.Marshal(crec)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	rec := golden.Record{
		Case: c.ID, Workflow: c.Workflow, Variant: c.Variant, Seed: c.Seed, Node: o.Node, Index: o.Index,
		Compare: cb, Fingerprint: s.stable, Provenance: prov,
	}
	rb, err := rec.Encode()
	if err != nil {
		return err
	}
	pngRel, recRel := candidatePath(c.Workflow, file, ".png"), candidatePath(c.Workflow, file, ".json")
	if err := atomicfile.WriteFile(filepath.Join(s.opts.RunDir, pngRel), o.PNG, 0o644); err != nil {
		return fmt.Errorf("write candidate: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(s.opts.RunDir, recRel), rb, 0o644); err != nil {
		return fmt.Errorf("write candidate record: %w", err)
	}
	out.Candidate, out.CandidateRecord = pngRel, recRel
	return nil
}

// keepGolden copies the golden an output was judged against into the run
// directory (goldens/<workflow>/<file>.{png,json}).
func (s *Session) keepGolden(c plan.Case, file string, g *golden.Golden, out *report.Output) error {
	pngRel := filepath.Join(JudgedDir, c.Workflow, file+".png")
	rb, err := g.Record.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.opts.RunDir, pngRel), g.PNG, 0o644); err != nil {
		return fmt.Errorf("write golden copy: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(s.opts.RunDir, JudgedDir, c.Workflow, file+".json"), rb, 0o644); err != nil {
		return fmt.Errorf("write golden copy: %w", err)
	}
	out.GoldenCopy = pngRel
	return nil
}

// vanished reports goldens of this case that the replay no longer
// produced: an output node removed or a batch shrunk is a regression.
func (s *Session) vanished(c plan.Case, produced map[string]bool) []report.Output {
	prefix := strings.TrimSuffix(c.File("x", 0), "x-0")
	matches, _ := filepath.Glob(s.store.PNGPath(c.Workflow, prefix+"*"))
	sort.Strings(matches)
	var out []report.Output
	for _, m := range matches {
		file := strings.TrimSuffix(filepath.Base(m), ".png")
		if produced[file] || strings.HasSuffix(file, ".diff") {
			continue
		}
		if _, err := os.Stat(s.store.RecordPath(c.Workflow, file)); err != nil {
			continue
		}
		out = append(out, report.Output{
			File: file, Verdict: report.Fail, Tier: TierMissing, Golden: m,
			Reason: "a golden exists for this output but the replay did not produce it",
		})
	}
	return out
}

// flatten returns every metric as "tier.name" → value and the gated ones'
// thresholds, dropping non-finite values (JSON cannot carry them).
func flatten(res *compare.Result) (metrics, thresholds map[string]float64) {
	metrics, thresholds = map[string]float64{}, map[string]float64{}
	for _, t := range res.Tiers {
		for _, m := range t.Metrics {
			k := t.Tier + "." + m.Name
			if isFinite(m.Value) {
				metrics[k] = m.Value
			}
			if m.Gated && isFinite(m.Threshold) {
				thresholds[k] = m.Threshold
			}
		}
	}
	return metrics, thresholds
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finite is v, or 0 when v is not finite.
func finite(v float64) float64 {
	if !isFinite(v) {
		return 0
	}
	return v
}

// tierOf returns the name of the tier holding metric m, a pointer into
// res.Tiers (as Result.KeyMetric returns).
func tierOf(res *compare.Result, m *compare.Metric) string {
	for _, t := range res.Tiers {
		for i := range t.Metrics {
			if &t.Metrics[i] == m {
				return t.Tier
			}
		}
	}
	return ""
}

// stableFingerprint returns /system_stats without what changes from run to
// run or machine to machine (free and total memory, the command line), so
// that a golden record is reproducible.
func stableFingerprint(raw json.RawMessage) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	var strip func(any) any
	strip = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if k == "argv" || strings.HasSuffix(k, "_free") || strings.HasSuffix(k, "_total") {
					delete(t, k)
					continue
				}
				t[k] = strip(x)
			}
		case []any:
			for i := range t {
				t[i] = strip(t[i])
			}
		}
		return v
	}
	b, err := json.Marshal(strip(v))
	if err != nil {
		return nil
	}
	return b
}

// TargetKind says what kind of server answered /system_stats:
// suite.TargetRegenExecutor when it carries regen-executor's "regen"
// section, suite.TargetComfyUI for any other.
func TargetKind(raw json.RawMessage) string {
	var st struct {
		Regen json.RawMessage `json:"regen"`
	}
	if json.Unmarshal(raw, &st) == nil && len(st.Regen) > 0 && st.Regen[0] == '{' {
		return suite.TargetRegenExecutor
	}
	return suite.TargetComfyUI
}

// TargetClass is the environment class regen-executor reports in its
// /system_stats fingerprint (regen.fingerprint.class); "" for other servers.
func TargetClass(raw json.RawMessage) string {
	var st struct {
		Regen struct {
			Fingerprint struct {
				Class string `json:"class"`
			} `json:"fingerprint"`
		} `json:"regen"`
	}
	_ = json.Unmarshal(raw, &st)
	return st.Regen.Fingerprint.Class
}

// flatFingerprint reduces /system_stats to the few strings a golden record
// keeps: the environment class, the first device and the server version.
func flatFingerprint(raw json.RawMessage, class string) map[string]string {
	var st struct {
		System struct {
			ComfyUIVersion string `json:"comfyui_version"`
		} `json:"system"`
		Devices []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"devices"`
	}
	_ = json.Unmarshal(raw, &st)
	m := map[string]string{"class": class}
	if st.System.ComfyUIVersion != "" {
		m["version"] = st.System.ComfyUIVersion
	}
	if len(st.Devices) > 0 {
		m["device"] = st.Devices[0].Name
		m["device_type"] = st.Devices[0].Type
	}
	return m
}
