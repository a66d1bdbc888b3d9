package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) string
		wantErr bool
	}{
		{name: "new file in new dir", prepare: func(t *testing.T, dir string) string { return filepath.Join(dir, "a", "b.txt") }},
		{name: "replace", prepare: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "b.txt")
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{name: "destination is a directory", prepare: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d")
			if err := os.MkdirAll(filepath.Join(p, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := tt.prepare(t, dir)
			err := WriteFile(p, []byte("new"), 0o644)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				b, err := os.ReadFile(p)
				if err != nil || string(b) != "new" {
					t.Errorf("read back %q, %v", b, err)
				}
			}
			left, err := Leftovers(dir)
			if err != nil || len(left) != 0 {
				t.Errorf("leftovers %v, %v", left, err)
			}
		})
	}
}

// TestWrite: a streamed write lands whole or not at all (it was the
// executor's SaveImage writer's test before the executor used this package).
func TestWrite(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk full")
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		write    func(io.Writer) error
		wantErr  error
		wantData string // "" means the target must not exist
	}{
		{"writes", nil, func(w io.Writer) error { _, err := io.WriteString(w, "png"); return err }, nil, "png"},
		{"replaces", func(t *testing.T, dir string) { touchFile(t, dir, "f.png") },
			func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"failing write leaves nothing", nil, func(w io.Writer) error {
			io.WriteString(w, "half a fi")
			return errDisk
		}, errDisk, ""},
		{"failing rename leaves nothing", func(t *testing.T, dir string) { touchFile(t, dir, "f.png/blocker") },
			func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }, os.ErrExist, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			err := Write(filepath.Join(dir, "f.png"), 0o644, tt.write)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && err == nil {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(tt.wantErr, errDisk) && !errors.Is(err, errDisk) {
				t.Fatalf("err = %v, want it to wrap %v", err, errDisk)
			}
			for _, name := range dirNames(t, dir) {
				if name != "f.png" {
					t.Fatalf("left behind %q", name)
				}
			}
			fi, statErr := os.Stat(filepath.Join(dir, "f.png"))
			if tt.wantData == "" {
				if statErr == nil && !fi.IsDir() {
					t.Fatalf("target exists after a failed write")
				}
				return
			}
			got, _ := os.ReadFile(filepath.Join(dir, "f.png"))
			if string(got) != tt.wantData {
				t.Fatalf("content %q, want %q", got, tt.wantData)
			}
			if fi.Mode().Perm() != 0o644 {
				t.Fatalf("mode %v, want 0644", fi.Mode().Perm())
			}
		})
	}
}

func touchFile(t *testing.T, dir, name string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
