package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func inspectRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), append([]string{"inspect"}, args...), &out, &errb)
	return out.String(), err
}

func TestInspectNoise(t *testing.T) {
	t.Parallel()
	// torch.manual_seed(42); torch.randn(1, 4, 8, 8).flatten()[:4] (the
	// brief's known value; also the start of randn(2,2,4,4) published
	// elsewhere).
	want := []float64{1.9269152879714966, 1.4872840642929077, 0.9007171988487244, -2.1055209636688232}
	tests := []struct {
		name string
		args []string
		seed uint64
	}{
		{"seed 42", []string{"noise", "--seed", "42", "--shape", "1,4,8,8"}, 42},
		{"high bits ignored", []string{"noise", "--seed", "4294967338", "--shape", "1, 4, 8, 8"}, 4294967338},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := inspectRun(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Seed   uint64            `json:"seed"`
				Shape  []int             `json:"shape"`
				Values []json.RawMessage `json:"values"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got.Seed != tc.seed || len(got.Shape) != 4 || len(got.Values) != 256 {
				t.Fatalf("seed %d shape %v, %d values", got.Seed, got.Shape, len(got.Values))
			}
			for i, w := range want {
				v, err := strconv.ParseFloat(string(got.Values[i]), 32)
				if err != nil || float32(v) != float32(w) {
					t.Fatalf("value %d = %s, want float32 %v", i, got.Values[i], w)
				}
				// Shortest float32 form: no more digits than needed.
				if s := string(got.Values[i]); s != strconv.FormatFloat(float64(float32(w)), 'g', -1, 32) {
					t.Fatalf("value %d printed %s", i, s)
				}
			}
		})
	}
}

func TestInspectSigmas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		n     int
		first float64
	}{
		{"karras 20", []string{"sigmas", "--scheduler", "karras", "--steps", "20"}, 21, 14.6146412},
		{"dpm_2 keeps steps+1", []string{"sigmas", "--scheduler", "karras", "--steps", "20", "--sampler", "dpm_2"}, 21, 14.6146412},
		{"ddim_uniform 30 gives 31 steps", []string{"sigmas", "--scheduler", "ddim_uniform", "--steps", "30"}, 32, -1},
		{"denoise keeps the tail", []string{"sigmas", "--scheduler", "normal", "--steps", "10", "--denoise", "0.5"}, 11, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := inspectRun(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Scheduler string    `json:"scheduler"`
				Steps     int       `json:"steps"`
				Sigmas    []float64 `json:"sigmas"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if len(got.Sigmas) != tc.n || got.Sigmas[len(got.Sigmas)-1] != 0 {
				t.Fatalf("%d sigmas %v, want %d ending in 0", len(got.Sigmas), got.Sigmas, tc.n)
			}
			if tc.first > 0 && math.Abs(got.Sigmas[0]-tc.first) > 1e-6 {
				t.Fatalf("first sigma %v, want %v", got.Sigmas[0], tc.first)
			}
			if tc.name == "denoise keeps the tail" && got.Sigmas[0] > 2 {
				t.Fatalf("denoise 0.5 starts at %v", got.Sigmas[0])
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no topic", nil, "needs a topic"},
		{"unknown topic", []string{"colours"}, "unknown inspect topic"},
		{"missing shape", []string{"noise", "--seed", "1"}, "--shape is required"},
		{"bad shape", []string{"noise", "--shape", "1,0,8"}, "positive integer"},
		{"huge shape", []string{"noise", "--shape", "4096,4096,4096"}, "more than"},
		{"negative seed", []string{"noise", "--seed", "-1", "--shape", "4"}, "not an integer"},
		{"seed overflow", []string{"noise", "--seed", "18446744073709551616", "--shape", "4"}, "not an integer"},
		{"unknown flag", []string{"noise", "--sed", "1"}, "flag provided but not defined"},
		{"stray argument", []string{"sigmas", "--scheduler", "karras", "--steps", "3", "extra"}, "unexpected argument"},
		{"missing scheduler", []string{"sigmas", "--steps", "3"}, "--scheduler is required"},
		{"unknown scheduler", []string{"sigmas", "--scheduler", "cosine", "--steps", "3"}, "unknown scheduler"},
		{"zero steps", []string{"sigmas", "--scheduler", "karras"}, "outside 1..10000"},
		{"bad denoise", []string{"sigmas", "--scheduler", "karras", "--steps", "3", "--denoise", "1.5"}, "outside 0..1"},
		{"unknown sampler", []string{"sigmas", "--scheduler", "karras", "--steps", "3", "--sampler", "magic"}, "unknown sampler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := inspectRun(t, tc.args...)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want a usage error containing %q", err, tc.msg)
			}
			if code := ExitCode(err, &bytes.Buffer{}); code != ExitInfra {
				t.Fatalf("exit code %d, want %d", code, ExitInfra)
			}
		})
	}
}

func TestInspectLists(t *testing.T) {
	t.Parallel()
	out, err := inspectRun(t, "schedulers")
	if err != nil || !strings.HasPrefix(out, `{"schedulers":["simple","sgm_uniform","karras"`) {
		t.Fatalf("schedulers: %v %s", err, out)
	}
	out, err = inspectRun(t, "samplers")
	if err != nil || !strings.Contains(out, `"uni_pc_bh2"]}`) {
		t.Fatalf("samplers: %v %s", err, out)
	}
}
