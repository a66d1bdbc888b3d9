package plan

import (
	"sort"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/suite"
)

// uncovered are node classes the committed suite cannot use, with why.
var uncovered = map[string]string{
	"VAELoader": "the fixtures ship no standalone VAE file",
}

// TestSuiteUsesEveryNode checks that the committed suite replays every node
// class of the committed /object_info capture (the executor's nodes), so a
// regression in any of them is caught by make e2e.
func TestSuiteUsesEveryNode(t *testing.T) {
	t.Parallel()
	s, err := suite.Load(testutil.Path(t, "fixtures", "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := workflow.LoadObjectInfo(s.Resolve(s.ObjectInfo))
	if err != nil {
		t.Fatal(err)
	}
	cases := Build(s, Options{ObjectInfo: info})
	used := map[string]bool{}
	for _, c := range cases {
		if c.Err != nil {
			t.Errorf("%s: %v", c.ID, c.Err)
		}
		for _, l := range c.Labels {
			if n, ok := strings.CutPrefix(l, "node-"); ok {
				used[n] = true
			}
		}
	}
	var missing []string
	for class := range info {
		if !used[class] && uncovered[class] == "" {
			missing = append(missing, class)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no committed workflow uses %v: add one to fixtures/workflows and fixtures/suite.yaml", missing)
	}
	if len(cases) < 12 {
		t.Errorf("%d cases, want at least 12", len(cases))
	}
}
