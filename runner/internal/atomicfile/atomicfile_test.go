package atomicfile

import (
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
