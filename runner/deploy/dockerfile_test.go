package deploy

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

// stage is one FROM ... AS name section of the Dockerfile.
type stage struct {
	name, from string
	lines      []string // instructions, continuation lines joined
}

// parseDockerfile splits a Dockerfile into stages (enough of the syntax for
// the checks below: comments, continuations, FROM ... AS).
func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		f := strings.Fields(line)
		if strings.EqualFold(f[0], "FROM") {
			s := stage{from: f[1]}
			if len(f) >= 4 && strings.EqualFold(f[2], "AS") {
				s.name = f[3]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
		}
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		flush()
	}
	flush()
	return stages
}

func (s stage) has(prefix string) bool {
	for _, l := range s.lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestDockerfile keeps the Dockerfile consistent with the manifests and the
// module, since no Docker engine builds it here.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, testutil.Path(t, "Dockerfile"))
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	if len(stages) == 0 || stages[len(stages)-1].name != "executor" || stages[len(stages)-1].from != "scratch" {
		t.Fatalf("the last stage (the default target of docker build) must be FROM scratch AS executor; stages: %+v", stages)
	}
	for _, name := range []string{"executor", "executor-cuda", "regen"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no stage %q", name)
			continue
		}
		if !s.has("USER 65532:65532") {
			t.Errorf("stage %s does not run as USER 65532:65532 (the manifests' runAsUser)", name)
		}
	}
	for _, name := range []string{"executor", "executor-cuda"} {
		s := byName[name]
		if !s.has("EXPOSE 8188 9090") {
			t.Errorf("stage %s does not EXPOSE 8188 9090", name)
		}
		cmd := strings.Join(s.lines, "\n")
		for _, want := range []string{`"--listen=0.0.0.0:8188"`, `"--metrics-listen=0.0.0.0:9090"`, `"--models=/models"`, `VOLUME ["/input", "/output", "/temp", "/tmp"]`} {
			if !strings.Contains(cmd, want) {
				t.Errorf("stage %s lacks %s", name, want)
			}
		}
	}
	if b := byName["build"]; !strings.Contains(strings.Join(b.lines, "\n"), "CGO_ENABLED=0") {
		t.Errorf("the build stage must set CGO_ENABLED=0 (a static binary for FROM scratch)")
	}
	if !strings.Contains(strings.Join(byName["executor-cuda"].lines, "\n"), "--backend=cuda") {
		t.Errorf("executor-cuda must default to --backend=cuda")
	}

	// The Go image must match go.mod's go line (GOTOOLCHAIN=local cannot switch).
	gomod, err := os.ReadFile(testutil.Path(t, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	df, _ := os.ReadFile(testutil.Path(t, "Dockerfile"))
	if goLine == nil || !strings.Contains(string(df), "ARG GO_IMAGE=golang:"+string(goLine[1])+"-") {
		t.Errorf("ARG GO_IMAGE must be golang:%s-<debian> to match go.mod", goLine[1])
	}

	// Nothing the Dockerfile copies from the context may be excluded by .dockerignore.
	ignore, err := os.ReadFile(testutil.Path(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(ignore), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimSuffix(l, "/"))
		}
	}
	for _, s := range stages {
		for _, l := range s.lines {
			f := strings.Fields(l)
			if f[0] != "COPY" || strings.HasPrefix(f[1], "--from") {
				continue
			}
			for _, src := range f[1 : len(f)-1] {
				src = strings.TrimSuffix(src, "/")
				if src == "." {
					continue
				}
				if _, err := os.Stat(testutil.Path(t, src)); err != nil {
					t.Errorf("stage %s copies %s, which does not exist: %v", s.name, src, err)
				}
				for _, p := range patterns {
					if ignored(p, src) {
						t.Errorf("stage %s copies %s but .dockerignore excludes it (%s)", s.name, src, p)
					}
				}
			}
		}
	}
}

// ignored reports whether a .dockerignore pattern excludes path or a parent.
func ignored(pattern, p string) bool {
	for q := p; q != "." && q != "/" && q != ""; q = path.Dir(q) {
		if ok, _ := path.Match(pattern, q); ok {
			return true
		}
	}
	return false
}
