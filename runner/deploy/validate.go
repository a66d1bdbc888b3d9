package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// ExecutorPort is the port the executor serves ComfyUI's API (and its probes) on.
const ExecutorPort = 8188

// ProbePath is the endpoint every executor probe must use: cheap, upstream
// ComfyUI's, and it names the device.
const ProbePath = "/system_stats"

// Problem is one violated invariant: which environment, object and field, and
// what to change.
type Problem struct {
	Env    string // dev, prod, gpu (or the name the caller gave)
	Object string // Kind/name
	Field  string // JSON path inside the object, "-" when the object is missing
	Msg    string // what is wrong and what to change
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", p.Env, p.Object, p.Field, p.Msg)
}

// ValidationError lists every problem found in one environment.
type ValidationError struct {
	Env      string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "environment %s: %d %s:", e.Env, len(e.Problems), noun)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Validate decodes rendered strictly and checks env's invariants. It returns
// a *ValidationError listing every problem, or a decoding error naming the
// document; nil when the environment is sound.
func Validate(env string, rendered []byte) error {
	objs, err := Decode(rendered)
	if err != nil {
		return fmt.Errorf("environment %s: %w", env, err)
	}
	if ps := Check(env, objs); len(ps) > 0 {
		return &ValidationError{Env: env, Problems: ps}
	}
	return nil
}

// RenderAndValidate renders the overlay in dir and validates it as env,
// kube-score's checks included (Score, with the waivers of the kustomize
// root two levels above dir). It returns the rendered manifests even when
// validation fails (for a report).
func RenderAndValidate(ctx context.Context, env, dir string) ([]byte, error) {
	out, err := Render(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env, err)
	}
	w, err := LoadWaivers(filepath.Dir(filepath.Dir(dir)))
	if err != nil {
		return out, fmt.Errorf("environment %s: %w", env, err)
	}
	return out, ValidateScored(env, out, w)
}

// ValidateScored is Validate plus kube-score's checks: every CRITICAL
// finding that w does not waive is a problem.
func ValidateScored(env string, rendered []byte, w *Waivers) error {
	objs, err := Decode(rendered)
	if err != nil {
		return fmt.Errorf("environment %s: %w", env, err)
	}
	ps := append(Check(env, objs), scoreProblems(env, objs, w)...)
	if len(ps) > 0 {
		return &ValidationError{Env: env, Problems: ps}
	}
	return nil
}

// Pinned environments must run images pinned by tag (not latest) or digest.
func pinnedEnv(env string) bool { return env == "prod" || env == "gpu" || env == "comfyui" }

// netpolEnv environments must restrict ingress with a NetworkPolicy.
func netpolEnv(env string) bool { return env == "prod" || env == "gpu" || env == "comfyui" }

// gpuEnv environments must run on a GPU (regen-executor: the CUDA backend).
// comfyui is the gpu environment serving a real ComfyUI (components/comfyui).
func gpuEnv(env string) bool { return env == "gpu" || env == "comfyui" }
