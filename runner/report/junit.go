package report

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
)

// JUnit renders r as JUnit XML with Ginkgo's JUnit schema types: one
// testsuite per workflow, one testcase per case; a fail is a <failure>
// naming the tier and numbers, an error or a missing golden an <error>, a
// skip <skipped>. pass~ passes (its metrics are properties) unless the run
// is strict.
func JUnit(r *Run) ([]byte, error) {
	var suites reporters.JUnitTestSuites
	index := map[string]int{}
	for _, c := range r.Cases {
		i, ok := index[c.Workflow]
		if !ok {
			i = len(suites.TestSuites)
			index[c.Workflow] = i
			suites.TestSuites = append(suites.TestSuites, reporters.JUnitTestSuite{
				Name:      c.Workflow,
				Package:   r.Suite,
				Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
			})
		}
		s := &suites.TestSuites[i]
		tc := reporters.JUnitTestCase{
			Name:      c.ID,
			Classname: "regen." + c.Workflow,
			Status:    string(c.Verdict),
			Time:      c.TotalSeconds,
		}
		msg := caseMessage(c)
		switch {
		case c.Verdict == Skip:
			tc.Skipped = &reporters.JUnitSkipped{Message: c.Skip}
			s.Skipped++
		case c.Verdict == Fail || (c.Verdict == PassApprox && r.Strict):
			tc.Failure = &reporters.JUnitFailure{Message: msg, Type: "regression", Description: outputsText(c)}
			s.Failures++
			suites.Failures++
		case c.Verdict == Error || c.Verdict == New:
			tc.Error = &reporters.JUnitError{Message: msg, Type: string(c.Verdict), Description: outputsText(c)}
			s.Errors++
			suites.Errors++
		}
		if props := properties(c); len(props) > 0 {
			tc.Properties = &reporters.JUnitProperties{Properties: props}
		}
		s.Tests++
		s.Time += c.TotalSeconds
		suites.Tests++
		s.TestCases = append(s.TestCases, tc)
	}
	suites.Time = r.WallSeconds
	b, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func caseMessage(c Case) string {
	switch c.Verdict {
	case Error:
		return "replay error: " + c.Error
	case New:
		return "no golden for this case; approve it with `regen golden approve --from-run <run dir>`"
	}
	s := string(c.Verdict)
	if c.Tier != "" {
		s += " (" + c.Tier + ")"
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

func outputsText(c Case) string {
	var b strings.Builder
	for _, o := range c.Outputs {
		fmt.Fprintf(&b, "%s: %s", o.File, o.Verdict)
		if o.Tier != "" {
			fmt.Fprintf(&b, " (%s)", o.Tier)
		}
		if o.Key != nil {
			fmt.Fprintf(&b, " %s=%g threshold=%g", o.Key.Name, o.Key.Value, o.Key.Threshold)
		}
		if o.Reason != "" {
			fmt.Fprintf(&b, " %s", o.Reason)
		}
		if o.Candidate != "" {
			fmt.Fprintf(&b, " candidate=%s", o.Candidate)
		}
		if o.Diff != "" {
			fmt.Fprintf(&b, " diff=%s", o.Diff)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func properties(c Case) []reporters.JUnitProperty {
	var props []reporters.JUnitProperty
	props = append(props, reporters.JUnitProperty{Name: "seed", Value: fmt.Sprint(c.Seed)})
	if len(c.Labels) > 0 {
		props = append(props, reporters.JUnitProperty{Name: "labels", Value: strings.Join(c.Labels, ",")})
	}
	for _, o := range c.Outputs {
		keys := make([]string, 0, len(o.Metrics))
		for k := range o.Metrics {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make([]string, 0, len(keys))
		for _, k := range keys {
			m = append(m, k+"="+strconv.FormatFloat(o.Metrics[k], 'g', -1, 64))
		}
		if len(m) > 0 {
			props = append(props, reporters.JUnitProperty{Name: "metrics:" + o.File, Value: strings.Join(m, " ")})
		}
	}
	return props
}
