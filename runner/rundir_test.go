package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/regen-dev/regen/runner"
)

func TestPrepareRunDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		files       []string // created before (a trailing / makes a folder)
		wantRemoved []string
		wantErr     error
		wantLeft    []string
	}{
		{name: "absent"},
		{name: "empty", files: []string{}},
		{name: "an earlier run", files: []string{"results.json", "junit.xml", "summary.txt", "report.html", "candidates/", "goldens/", "executor-0/", "cluster/"},
			wantRemoved: []string{"candidates", "cluster", "executor-0", "goldens", "junit.xml", "report.html", "results.json", "summary.txt"}},
		{name: "someone's files", files: []string{"results.json", "candidates/", "notes.txt"}, wantErr: runner.ErrRunDirNotEmpty,
			wantLeft: []string{"candidates", "notes.txt", "results.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "run")
			if tt.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				if f[len(f)-1] == '/' {
					if err := os.MkdirAll(filepath.Join(p, "wf"), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			removed, err := runner.PrepareRunDir(dir)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			slices.Sort(removed)
			if !slices.Equal(removed, tt.wantRemoved) {
				t.Errorf("removed %v, want %v", removed, tt.wantRemoved)
			}
			ents, _ := os.ReadDir(dir)
			var left []string
			for _, e := range ents {
				left = append(left, e.Name())
			}
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left %v, want %v", left, tt.wantLeft)
			}
		})
	}
}
