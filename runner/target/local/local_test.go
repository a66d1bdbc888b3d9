package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner/target/local"
)

var update = flag.Bool("update", false, "rewrite the committed /object_info capture")

// capture is the committed /object_info of regen-executor with the fixture
// models, used to convert UI workflows offline (suite.yaml object_info).
const capture = "../../../fixtures/workflows/object_info.json"

func TestLocalTargetAndObjectInfoCapture(t *testing.T) {
	models := "../../../fixtures/models"
	if _, err := os.Stat(models); err != nil {
		t.Skipf("no fixture models: %v", err)
	}
	tgt := local.New(local.Options{Models: models, WorkDir: t.TempDir(), Replicas: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	eps, err := tgt.Start(context.Background())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := tgt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if len(eps) != 2 || eps[0].URL == eps[1].URL || tgt.Describe() != "local x2" {
		t.Fatalf("endpoints %v (%s)", eps, tgt.Describe())
	}
	fp, err := tgt.Fingerprint(context.Background())
	if err != nil || !bytes.Contains(fp, []byte(`"devices"`)) {
		t.Fatalf("Fingerprint = %s, %v", fp, err)
	}
	resp, err := http.Get(eps[0].URL + "/object_info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(capture, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(capture)
	if err != nil {
		t.Fatalf("read capture (regenerate with go test ./runner/target/local -run Capture -update): %v", err)
	}
	if !bytes.Equal(essential(t, got), essential(t, want)) {
		t.Errorf("%s is stale: the executor's /object_info changed; regenerate it with\n\tgo test ./runner/target/local -run Capture -update", capture)
	}
	if _, err := workflow.ParseObjectInfo(want); err != nil {
		t.Errorf("capture does not parse: %v", err)
	}
}

func TestMissingModelsDir(t *testing.T) {
	t.Parallel()
	tgt := local.New(local.Options{Models: t.TempDir() + "/nope", WorkDir: t.TempDir()})
	if _, err := tgt.Start(context.Background()); err == nil {
		t.Fatal("Start with no models dir succeeded")
	}
	if err := tgt.Close(); err != nil {
		t.Errorf("Close after failed Start: %v", err)
	}
}

// essential drops what does not change how a UI workflow converts or a
// prompt validates (tooltips, descriptions, display names, categories), so
// that the capture goes stale only when node schemas really change.
func essential(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	drop := map[string]bool{"tooltip": true, "description": true, "display_name": true, "category": true,
		"python_module": true, "output_tooltips": true, "search_aliases": true, "essentials_category": true}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if drop[k] {
					delete(x, k)
					continue
				}
				x[k] = strip(e)
			}
		case []any:
			for i := range x {
				x[i] = strip(x[i])
			}
		}
		return v
	}
	out, err := json.Marshal(strip(v))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
