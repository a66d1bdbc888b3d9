package runner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"
)

// comfyLike is a local executor whose /system_stats lacks regen-executor's
// "regen" section: to the runner, a real ComfyUI.
type comfyLike struct{ target.Target }

func (c comfyLike) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	raw, err := c.Target.Fingerprint(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "regen")
	return json.Marshal(m)
}

func TestRunRecordsProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, profile      string
		comfy              bool
		wantProfile        string
		wantKind           string
		wantErr            string // run error (the profile's inputs are uploaded)
		wantNotifyContains string
	}{
		{name: "regen-executor: default", wantProfile: "default", wantKind: suite.TargetRegenExecutor, wantNotifyContains: "the target is regen-executor"},
		{name: "comfyui: its marked profile", comfy: true, wantProfile: "real", wantKind: suite.TargetComfyUI, wantNotifyContains: "profile for comfyui targets"},
		{name: "named", profile: "broken", wantProfile: "broken", wantKind: suite.TargetRegenExecutor, wantErr: "nope.png"},
		{name: "unknown", profile: "nope", wantErr: "unknown profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := suite.Load(imgSuite)
			if err != nil {
				t.Fatal(err)
			}
			s.Profiles = map[string]suite.Profile{
				"real":   {Target: suite.TargetComfyUI, Thresholds: suite.Thresholds{"window": 4}},
				"broken": {Inputs: []suite.Input{{Path: "nope.png", Name: "nope.png"}}},
			}
			runDir := filepath.Join(t.TempDir(), "run")
			var tgt target.Target = local.New(local.Options{Models: emptyModels(t), WorkDir: runDir, Logger: testutil.Logger()})
			if tt.comfy {
				tgt = comfyLike{tgt}
			}
			var notes []string
			rec, err := runner.Run(context.Background(), runner.Options{
				Suite: s, SuitePath: imgSuite, Target: tgt, GoldenDir: filepath.Join(t.TempDir(), "golden"), RunDir: runDir,
				Filter: regexp.MustCompile(`^solid/`), Profile: tt.profile, Logger: testutil.Logger(),
				Notify: func(m string) { notes = append(notes, m) },
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(runDir, report.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			var got report.Run
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Profile != tt.wantProfile || got.TargetKind != tt.wantKind || rec.Profile != tt.wantProfile {
				t.Errorf("results.json profile %q kind %q, want %q %q", got.Profile, got.TargetKind, tt.wantProfile, tt.wantKind)
			}
			if tt.wantNotifyContains != "" {
				if len(notes) != 1 || !strings.Contains(notes[0], "profile: "+tt.wantProfile) || !strings.Contains(notes[0], tt.wantNotifyContains) {
					t.Errorf("notes = %q", notes)
				}
				if !strings.Contains(got.ProfileReason, tt.wantNotifyContains) {
					t.Errorf("profile_reason = %q", got.ProfileReason)
				}
			}
		})
	}
}
