// Command schedbench measures what the runner's dispatch order gains: it
// replays a suite on executors that are already running (one case in
// flight per executor URL), in plan order or longest first, and prints the
// wall time next to the sum and the maximum of the cases' replay times.
// hack/schedbench.sh starts the executors, each pinned to one core with
// GOMAXPROCS=1, and compares one replica with two.
//
//	go run ./hack/schedbench -urls http://127.0.0.1:8188,http://127.0.0.1:8189 -order longest
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "schedbench:", err)
		os.Exit(2)
	}
}

func run() error {
	suitePath := flag.String("suite", "fixtures/suite.yaml", "suite file")
	goldenDir := flag.String("golden-dir", "golden", "golden root")
	urls := flag.String("urls", "", "comma-separated executor base URLs, one case in flight on each")
	order := flag.String("order", "longest", "dispatch order: plan or longest")
	runDir := flag.String("report", "", "report directory (default: a temporary one, removed)")
	perCase := flag.Bool("cases", false, "also print every case's replay and compare seconds, longest replay first")
	simulate := flag.Int("simulate", 0, "also print the wall time longest-first dispatch would reach on 1…N replicas with this run's case times (replay + compare), free of the load the replicas met")
	flag.Parse()
	if *urls == "" || (*order != "plan" && *order != "longest") {
		flag.Usage()
		return errors.New("need -urls and -order plan|longest")
	}
	s, err := suite.Load(*suitePath)
	if err != nil {
		return err
	}
	var tg multi
	for _, u := range strings.Split(*urls, ",") {
		t, err := target.NewURL(u)
		if err != nil {
			return err
		}
		tg = append(tg, t)
	}
	dir := *runDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "schedbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	rec, err := runner.Run(context.Background(), runner.Options{
		Suite: s, SuitePath: *suitePath, Target: tg, GoldenDir: *goldenDir, RunDir: dir,
		Concurrency: len(tg), PlanOrder: *order == "plan", Retries: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	var sum, longest float64
	verdicts := map[report.Verdict]int{}
	for _, c := range rec.Cases {
		sum += c.ReplaySeconds
		longest = max(longest, c.ReplaySeconds)
		verdicts[c.Verdict]++
	}
	fmt.Printf("replicas=%d order=%s cases=%d wall=%.2fs replay_sum=%.2fs longest_case=%.2fs verdicts=%v\n",
		len(tg), *order, len(rec.Cases), rec.WallSeconds, sum, longest, verdicts)
	if *simulate > 0 {
		var secs []float64
		for _, c := range rec.Cases {
			if c.ReplaySeconds > 0 {
				secs = append(secs, c.ReplaySeconds+c.CompareSeconds)
			}
		}
		one := makespan(secs, 1)
		for n := 1; n <= *simulate; n++ {
			m := makespan(secs, n)
			fmt.Printf("  simulated longest first on %d replicas: %.2fs (%.2fx one replica)\n", n, m, one/m)
		}
	}
	if *perCase {
		cs := slices.Clone(rec.Cases)
		slices.SortStableFunc(cs, func(a, b report.Case) int { return cmp.Compare(b.ReplaySeconds, a.ReplaySeconds) })
		for _, c := range cs {
			fmt.Printf("  %6.2fs replay %5.1f%%  %5.2fs compare  %-8s %s\n", c.ReplaySeconds, 100*c.ReplaySeconds/sum, c.CompareSeconds, c.Endpoint, c.ID)
		}
	}
	return nil
}

// makespan is the wall time of greedy longest-first dispatch of cases
// taking secs each on n replicas: each case, longest first, goes to the
// replica that frees up first (the runner's workers take the next case
// when they finish one).
func makespan(secs []float64, n int) float64 {
	s := slices.Clone(secs)
	slices.SortFunc(s, func(a, b float64) int { return cmp.Compare(b, a) })
	free := make([]float64, n)
	for _, d := range s {
		i := slices.Index(free, slices.Min(free))
		free[i] += d
	}
	return slices.Max(free)
}

// multi is several running executors as one target.
type multi []*target.URL

func (m multi) Start(ctx context.Context) ([]target.Endpoint, error) {
	var eps []target.Endpoint
	for i, t := range m {
		e, err := t.Start(ctx)
		if err != nil {
			return nil, fmt.Errorf("start endpoint %d: %w", i, err)
		}
		for _, ep := range e {
			ep.Name = fmt.Sprintf("url-%d", i)
			eps = append(eps, ep)
		}
	}
	return eps, nil
}

func (m multi) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	return m[0].Fingerprint(ctx)
}

func (m multi) Describe() string {
	var s []string
	for _, t := range m {
		s = append(s, t.Describe())
	}
	return strings.Join(s, ",")
}

func (m multi) Close() error { return nil }
