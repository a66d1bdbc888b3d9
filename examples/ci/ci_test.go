// Package ci_test checks the CI examples against the Makefile they call, so
// that an example cannot silently rot.
package ci_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestNightlyExampleCallsRealTargets(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("github-actions-nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parse the example: %v", err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z0-9_-]+):`).FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	makeCall := regexp.MustCompile(`\bmake ([a-zA-Z0-9_-]+)`)
	calls := 0
	for name, job := range wf.Jobs {
		for _, st := range job.Steps {
			for _, m := range makeCall.FindAllStringSubmatch(st.Run, -1) {
				calls++
				if !targets[m[1]] {
					t.Errorf("job %s runs `make %s`, which the Makefile does not define", name, m[1])
				}
			}
			if strings.Contains(st.Run, "ENV=gpu") && !strings.Contains(st.Run, "--class cuda-") {
				t.Errorf("job %s: a gpu run must name the cuda golden class", name)
			}
		}
	}
	if calls < 3 {
		t.Errorf("found %d make calls; the example should run make e2e (cpu, gpu) and deploy-validate", calls)
	}
}
