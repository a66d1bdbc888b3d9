// Command kubescore runs kube-score v1.20.0's default checks in-process on
// rendered overlays and applies regen's waiver file; hack/kubescore.sh drives
// it. A module of its own: kube-score v1.20.0 does not build against the
// k8s.io/apimachinery v0.35 that regen's module uses. runner/deploy/score.go
// runs the same checks inside `regen deploy validate`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/zegl/kube-score/config"
	"github.com/zegl/kube-score/domain"
	"github.com/zegl/kube-score/parser"
	"github.com/zegl/kube-score/score"
	"github.com/zegl/kube-score/score/checks"
	"github.com/zegl/kube-score/scorecard"
	"sigs.k8s.io/yaml"
)

// KubeScoreWaivers is the committed list of kube-score findings regen accepts,
// each with its reason, relative to the kustomize root.
const KubeScoreWaivers = "kube-score.yaml"

// ScoreFinding is one kube-score check an object did not pass.
type ScoreFinding struct {
	Object string // Kind/name
	Check  string // kube-score check ID, e.g. pod-networkpolicy
	Grade  string // CRITICAL or WARNING
	Detail string // kube-score's comments, joined
}

func (f ScoreFinding) String() string {
	return fmt.Sprintf("%s %s %s: %s", f.Grade, f.Object, f.Check, f.Detail)
}

// Waiver accepts a kube-score check for the objects (Kind/name; none: every
// object) of the environments (none: every environment), with a reason.
type Waiver struct {
	Check   string   `json:"check"`
	Objects []string `json:"objects,omitempty"`
	Envs    []string `json:"envs,omitempty"`
	Reason  string   `json:"reason"`
}

// Waivers is the file KubeScoreWaivers.
type Waivers struct {
	Waivers []Waiver `json:"waivers"`
}

// LoadWaivers reads and checks a waiver file: every waiver names a check and
// gives a reason.
func LoadWaivers(path string) (*Waivers, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kube-score waivers: %w", err)
	}
	var w Waivers
	if err := yaml.UnmarshalStrict(b, &w); err != nil {
		return nil, fmt.Errorf("decode kube-score waivers %s: %w", path, err)
	}
	for i, v := range w.Waivers {
		if v.Check == "" || strings.TrimSpace(v.Reason) == "" {
			return nil, fmt.Errorf("kube-score waivers %s: waiver %d needs a check and a reason", path, i+1)
		}
	}
	return &w, nil
}

// Waived reports whether env's finding f is waived.
func (w *Waivers) Waived(env string, f ScoreFinding) bool {
	if w == nil {
		return false
	}
	return slices.ContainsFunc(w.Waivers, func(v Waiver) bool {
		return v.Check == f.Check &&
			(len(v.Envs) == 0 || slices.Contains(v.Envs, env)) &&
			(len(v.Objects) == 0 || slices.Contains(v.Objects, f.Object))
	})
}

type namedReader struct {
	*bytes.Reader
	name string
}

func (r namedReader) Name() string { return r.name }

// KubeScore runs kube-score's default checks (as `kube-score score` with no
// flags) in-process on rendered manifests and returns every CRITICAL and
// WARNING finding, sorted by object, then check.
func KubeScore(env string, rendered []byte) ([]ScoreFinding, error) {
	p, err := parser.New(&parser.Config{})
	if err != nil {
		return nil, fmt.Errorf("kube-score parser: %w", err)
	}
	objs, err := p.ParseFiles([]domain.NamedReader{namedReader{bytes.NewReader(rendered), env + ".yaml"}})
	if err != nil {
		return nil, fmt.Errorf("kube-score parse %s: %w", env, err)
	}
	ver, err := config.ParseSemver("v1.35")
	if err != nil {
		return nil, fmt.Errorf("kube-score version: %w", err)
	}
	run := &config.RunConfiguration{
		UseIgnoreChecksAnnotation:   true,
		UseOptionalChecksAnnotation: true,
		KubernetesVersion:           ver,
		MinReplicasDeployment:       2,
		MinReplicasHPA:              2,
	}
	card, err := score.Score(objs, score.RegisterAllChecks(objs, &checks.Config{}, run), run)
	if err != nil {
		return nil, fmt.Errorf("kube-score %s: %w", env, err)
	}
	var out []ScoreFinding
	for _, so := range *card {
		for _, ts := range so.Checks {
			if ts.Skipped || ts.Grade > scorecard.GradeWarning {
				continue
			}
			var details []string
			for _, c := range ts.Comments {
				d := c.Summary
				if c.Path != "" {
					d = "(" + c.Path + ") " + d
				}
				details = append(details, d)
			}
			out = append(out, ScoreFinding{
				Object: so.TypeMeta.Kind + "/" + so.ObjectMeta.Name,
				Check:  ts.Check.ID,
				Grade:  ts.Grade.String(),
				Detail: strings.Join(details, "; "),
			})
		}
	}
	slices.SortFunc(out, func(a, b ScoreFinding) int {
		return strings.Compare(a.Object+"\x00"+a.Check+"\x00"+a.Detail, b.Object+"\x00"+b.Check+"\x00"+b.Detail)
	})
	return out, nil
}

// main scores each rendered environment named on the command line
// (ENV=RENDERED.yaml) and exits 1 when a CRITICAL finding is not waived by
// the -waivers file, 2 on a usage or input error.
func main() {
	waiverFile := flag.String("waivers", "", "kube-score waiver file (kustomize/kube-score.yaml)")
	flag.Parse()
	var waivers *Waivers
	if *waiverFile != "" {
		w, err := LoadWaivers(*waiverFile)
		if err != nil {
			fail(err)
		}
		waivers = w
	}
	bad := 0
	for _, arg := range flag.Args() {
		env, file, ok := strings.Cut(arg, "=")
		if !ok {
			fail(fmt.Errorf("usage: kubescore [-waivers FILE] ENV=RENDERED.yaml ...; got %q", arg))
		}
		b, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		fs, err := KubeScore(env, b)
		if err != nil {
			fail(err)
		}
		crit, waived := 0, 0
		for _, f := range fs {
			mark := ""
			switch {
			case waivers.Waived(env, f):
				mark = " (waived)"
				waived++
			case f.Grade == "CRITICAL":
				crit++
			}
			fmt.Printf("%s\t%s%s\n", env, f, mark)
		}
		fmt.Printf("%s: %d critical not waived, %d waived, %d findings\n", env, crit, waived, len(fs))
		bad += crit
	}
	if bad > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kubescore:", err)
	os.Exit(2)
}
