package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
)

// TestShippedOverlays renders and validates every environment and compares
// the render with its golden file.
func TestShippedOverlays(t *testing.T) {
	ctx := context.Background()
	for _, env := range Environments {
		t.Run(env, func(t *testing.T) {
			dir, err := OverlayDir(testutil.Path(t, "kustomize"), env)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := RenderAndValidate(ctx, env, dir)
			if err != nil {
				t.Fatalf("validate %s: %v", env, err)
			}
			t.Logf("%s: rendered and validated in %v (%d bytes)", env, time.Since(start), len(out))
			golden := filepath.Join("testdata", env+".yaml")
			want := testutil.ReadGolden(t, golden, out, "go test ./runner/deploy -update")
			if !bytes.Equal(out, want) {
				t.Errorf("render of %s differs from %s; review the change and run go test ./runner/deploy -update\n%s", env, golden, firstDiff(string(want), string(out)))
			}
		})
	}
}

// TestRenderDeterministic renders each overlay twice: the bytes must match.
func TestRenderDeterministic(t *testing.T) {
	for _, env := range Environments {
		t.Run(env, func(t *testing.T) {
			dir, _ := OverlayDir(testutil.Path(t, "kustomize"), env)
			a, err := Render(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Render(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("two renders of %s differ:\n%s", env, firstDiff(string(a), string(b)))
			}
		})
	}
}

func TestOverlayDirRejectsUnknownEnv(t *testing.T) {
	t.Parallel()
	_, err := OverlayDir(testutil.Path(t, "kustomize"), "staging")
	if err == nil || !strings.Contains(err.Error(), "dev, gpu, prod") {
		t.Fatalf("OverlayDir(staging) = %v; want an error listing the environments", err)
	}
}

// TestOverlaysAreDiscovered: an environment is a directory with a
// kustomization under overlays/, nothing more; a directory without one, a
// plain file and a missing root are not environments.
func TestOverlaysAreDiscovered(t *testing.T) {
	t.Parallel()
	shipped, err := Overlays(testutil.Path(t, "kustomize"))
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(Environments)); !slices.Equal(shipped, want) {
		t.Fatalf("Overlays(repo) = %v, want the shipped %v", shipped, want)
	}
	root := t.TempDir()
	for _, f := range []string{"overlays/staging/kustomization.yaml", "overlays/alt/Kustomization", "overlays/empty/README.md", "overlays/notes.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Overlays(root)
	if err != nil || !slices.Equal(got, []string{"alt", "staging"}) {
		t.Fatalf("Overlays = %v, %v; want [alt staging]", got, err)
	}
	if dir, err := OverlayDir(root, "staging"); err != nil || dir != filepath.Join(root, "overlays", "staging") {
		t.Errorf("OverlayDir(staging) = %q, %v", dir, err)
	}
	if _, err := OverlayDir(root, "empty"); err == nil || !strings.Contains(err.Error(), "alt, staging") {
		t.Errorf("OverlayDir(empty) = %v; want unknown, listing alt, staging", err)
	}
	if _, err := Overlays(filepath.Join(root, "nowhere")); err == nil {
		t.Error("Overlays of a missing root succeeded")
	}
}

func TestRenderHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir, _ := OverlayDir(testutil.Path(t, "kustomize"), "dev")
	if _, err := Render(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("Render with a cancelled context = %v; want context.Canceled", err)
	}
}

// firstDiff shows the first differing line of two texts with some context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return "(no line differs)"
}

// TestScoreFindings runs the in-process kube-score checks on every shipped
// environment and compares every finding, waived or not, with
// testdata/kube-score.txt. hack/kubescore.sh runs kube-score v1.20.0 itself
// on the same renders: its findings (check and object) must be the same set.
func TestScoreFindings(t *testing.T) {
	root := testutil.Path(t, "kustomize")
	w, err := LoadWaivers(root)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, env := range Environments {
		dir, err := OverlayDir(root, env)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Render(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range Score(objs) {
			mark := ""
			if w.Waived(env, f) {
				mark = " (waived)"
			} else if f.Grade == GradeCritical {
				t.Errorf("%s: unwaived %v", env, f)
			}
			fmt.Fprintf(&b, "%s\t%v%s\n", env, f, mark)
		}
	}
	golden := filepath.Join("testdata", "kube-score.txt")
	want := testutil.ReadGolden(t, golden, []byte(b.String()), "go test ./runner/deploy -run TestScoreFindings -update")
	if b.String() != string(want) {
		t.Errorf("findings differ from %s; review, then go test ./runner/deploy -run TestScoreFindings -update\n%s", golden, firstDiff(string(want), b.String()))
	}
}
