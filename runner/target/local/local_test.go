package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/target/local"
)

func TestLocalTargetAndObjectInfoCapture(t *testing.T) {
	// capture is the committed /object_info of regen-executor with the fixture
	// models, used to convert UI workflows offline (suite.yaml object_info).
	capture := testutil.Path(t, "fixtures", "workflows", "object_info.json")
	models := testutil.Path(t, "fixtures", "models")
	if _, err := os.Stat(models); err != nil {
		t.Skipf("no fixture models: %v", err)
	}
	tgt := local.New(local.Options{Models: models, WorkDir: t.TempDir(), Replicas: 2,
		Logger: testutil.Logger()})
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
	if testutil.Update() {
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

// essential keeps what decides how a UI workflow converts: the node
// classes, each one's inputs in widget order with their types (a combo is
// just "COMBO": its options may grow), and its outputs. Tooltips, combo
// options and display names may change without making the capture stale.
func essential(t *testing.T, raw []byte) []byte {
	t.Helper()
	var info map[string]struct {
		Input      map[string]map[string]json.RawMessage `json:"input"`
		InputOrder map[string][]string                   `json:"input_order"`
		Output     []string                              `json:"output"`
		OutputNode bool                                  `json:"output_node"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for class, ni := range info {
		var sig []string
		for _, section := range []string{"required", "optional"} {
			for _, name := range ni.InputOrder[section] {
				typ := "?"
				var spec []json.RawMessage
				if json.Unmarshal(ni.Input[section][name], &spec) == nil && len(spec) > 0 {
					typ = string(spec[0])
					if strings.HasPrefix(typ, "[") {
						typ = "COMBO"
					}
				}
				sig = append(sig, section+":"+name+":"+typ)
			}
		}
		sig = append(sig, "out:"+strings.Join(ni.Output, ","), fmt.Sprint("output_node:", ni.OutputNode))
		out[class] = sig
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
