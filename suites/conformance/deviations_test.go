package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Every listed deviation says why and for which server, and is checked by a
// spec; every spec's deviation is listed (differs fails on an unknown id at
// run time, this finds it without a server).
func TestDeviationsAreListedAndUsed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	call := regexp.MustCompile(`differs\("([^"]+)"\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	seen := map[string]bool{}
	for _, d := range Deviations {
		if seen[d.ID] {
			t.Errorf("deviation %q is listed twice", d.ID)
		}
		seen[d.ID] = true
		if d.Why == "" || len(d.Kinds) == 0 {
			t.Errorf("deviation %q needs a reason and the server kinds it applies to", d.ID)
		}
		for _, k := range d.Kinds {
			if k != KindRegen && k != KindComfyUI {
				t.Errorf("deviation %q: unknown server kind %q", d.ID, k)
			}
		}
		if !used[d.ID] {
			t.Errorf("deviation %q is listed but no spec checks it", d.ID)
		}
	}
	for id := range used {
		if !seen[id] {
			t.Errorf("a spec refers to deviation %q, which deviations.go does not list", id)
		}
	}
}
