package deploy

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
)

// TestModelsManifestMatchesFixtures: models.txt must list exactly the fixture
// models with the checksums of fixtures/models/SHA256SUMS.
func TestModelsManifestMatchesFixtures(t *testing.T) {
	want := readSums(t, testutil.Path(t, "fixtures", "models", "SHA256SUMS"))
	got := readSums(t, filepath.Join(testutil.Path(t, "kustomize", "components", "models"), "models.txt"))
	if len(got) != len(want) {
		t.Errorf("models.txt lists %d files, fixtures/models/SHA256SUMS %d", len(got), len(want))
	}
	for path, sum := range want {
		if got[path] != sum {
			t.Errorf("models.txt: %s has sha256 %q; fixtures/models/SHA256SUMS says %q (update kustomize/components/models/models.txt)", path, got[path], sum)
		}
	}
}

// readSums reads "<sha256> <path> [url]" lines into path → sha256.
func readSums(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		sums[fields[1]] = fields[0]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestPreloadScript runs the initContainer's script with a fake curl that
// serves the fixture models from disk (or corrupts them), when /bin/sh and
// sha256sum exist.
func TestPreloadScript(t *testing.T) {
	for _, tool := range []string{"sh", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: %v", tool, err)
		}
	}
	fixtures, err := filepath.Abs(testutil.Path(t, "fixtures", "models"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join(testutil.Path(t, "kustomize", "components", "models"), "preload.sh"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		curl    string // body of the fake curl; $out is the -o file, $url the URL
		prefill bool   // models already present
		wantErr string // substring of stderr when the script must fail
		fetches int    // how many files the fake curl must have served
	}{
		{name: "fetches every missing model", curl: `cp "$FIXTURES/${url#https://models.regen.invalid/}" "$out"`, fetches: 4},
		{name: "keeps models already present", curl: `cp "$FIXTURES/${url#https://models.regen.invalid/}" "$out"`, prefill: true, fetches: 0},
		{name: "refuses a corrupt download", curl: `echo corrupt >"$out"`, wantErr: "checksum mismatch", fetches: 4},
		{name: "says where to set the URL", curl: `exit 6`, wantErr: "set its URL in kustomize/components/models/models.txt", fetches: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			bin, models, log := filepath.Join(tmp, "bin"), filepath.Join(tmp, "models"), filepath.Join(tmp, "fetches")
			for _, d := range []string{bin, models} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			fake := "#!/bin/sh\nout=''\nurl=''\nwhile [ $# -gt 0 ]; do case \"$1\" in -o) out=$2; shift 2;; -*) shift;; *) url=$1; shift;; esac; done\necho \"$url\" >>\"$FETCHLOG\"\n" + tt.curl + "\n"
			if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.prefill {
				if err := os.CopyFS(models, os.DirFS(fixtures)); err != nil {
					t.Fatal(err)
				}
			}
			manifest, err := filepath.Abs(filepath.Join(testutil.Path(t, "kustomize", "components", "models"), "models.txt"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", script)
			cmd.Env = append(os.Environ(),
				"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"MODELS="+models, "FIXTURES="+fixtures, "FETCHLOG="+log)
			cmd.Env = append(cmd.Env, "MANIFEST="+manifest)
			out, err := cmd.CombinedOutput()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(string(out), tt.wantErr) {
					t.Fatalf("preload = %v, output:\n%s\nwant a failure saying %q", err, out, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("preload: %v\n%s", err, out)
			}
			fetched, _ := os.ReadFile(log)
			if n := strings.Count(string(fetched), "\n"); n != tt.fetches {
				t.Errorf("fake curl served %d files; want %d\n%s", n, tt.fetches, out)
			}
			if tt.wantErr != "" {
				left, _ := filepath.Glob(filepath.Join(models, "*", "*"))
				if len(left) != 0 {
					t.Errorf("a failed preload left %v behind; want nothing", left)
				}
				return
			}
			for path, sum := range readSums(t, manifest) {
				got := sha256File(t, filepath.Join(models, path))
				if got != sum {
					t.Errorf("%s: sha256 %s, want %s", path, got, sum)
				}
			}
		})
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
