package history_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const (
	suiteYAML = `environment: cpu
seeds: [1, 2]
timeout: 30s
workflows:
  - path: workflows/scene.json
    variants:
      - name: euler
      - name: heun
        overrides: {sampler_name: heun}
`
	sceneJSON = `{
  "1": {"class_type": "FakeSampler", "inputs": {"seed": 0, "sampler_name": "euler"}},
  "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "scene"}}
}
`
	prepare  = "go build -o bin/fakeexec ."
	executor = "bin/fakeexec --listen {addr}"
)

var euler = []string{"scene[euler]/seed=1", "scene[euler]/seed=2"}

// scratch is the scratch repository and what the spec learns about it.
type scratch struct {
	dir, regen, db, runs string
	src                  string // fakeexec source as committed at commit 1
	commits              []string
}

func (s *scratch) git(args ...string) string {
	GinkgoHelper()
	cmd := exec.Command("git", append([]string{"-C", s.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=regen", "GIT_AUTHOR_EMAIL=regen@example.invalid",
		"GIT_COMMITTER_NAME=regen", "GIT_COMMITTER_EMAIL=regen@example.invalid")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func (s *scratch) write(name, content string) {
	GinkgoHelper()
	p := filepath.Join(s.dir, name)
	Expect(os.MkdirAll(filepath.Dir(p), 0o755)).To(Succeed())
	Expect(os.WriteFile(p, []byte(content), 0o644)).To(Succeed())
}

func (s *scratch) commit(subject string) {
	GinkgoHelper()
	s.git("add", "-A")
	s.git("commit", "-q", "-m", subject)
	s.commits = append(s.commits, s.git("rev-parse", "HEAD"))
}

// regenCmd runs bin/regen in the scratch repository; it returns the exit
// code and the output.
func (s *scratch) regenCmd(args ...string) (int, string) {
	GinkgoHelper()
	cmd := exec.Command(s.regen, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "REGEN_HISTORY=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	Expect(err).NotTo(HaveOccurred())
	return 0, string(out)
}

// build builds the executor of the working tree; false when it does not
// build.
func (s *scratch) build() bool {
	GinkgoHelper()
	cmd := exec.Command("sh", "-c", prepare)
	cmd.Dir = s.dir
	return cmd.Run() == nil
}

// replay starts the working tree's executor and runs regen against it.
func (s *scratch) replay(report string, extra ...string) (int, string) {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	l.Close()
	ex := exec.Command(filepath.Join(s.dir, "bin", "fakeexec"), "--listen", addr)
	ex.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Expect(ex.Start()).To(Succeed())
	defer func() {
		_ = ex.Process.Signal(syscall.SIGTERM)
		_ = ex.Wait()
	}()
	Eventually(func() error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	}).WithTimeout(20 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	args := append([]string{"run", "--url", "http://" + addr, "--suite", "suite.yaml", "--golden-dir", "golden",
		"--report", filepath.Join(s.runs, report), "-q"}, extra...)
	return s.regenCmd(args...)
}

// change makes the executor source of the next commit from commit 1's with
// the given replacements.
func (s *scratch) change(pairs ...string) {
	GinkgoHelper()
	src := s.src
	for i := 0; i < len(pairs); i += 2 {
		Expect(src).To(ContainSubstring(pairs[i]))
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	s.write("main.go", src)
}

type entry struct {
	Commit  string         `json:"commit"`
	Subject string         `json:"subject"`
	Counts  map[string]int `json:"counts"`
	Changes []struct {
		Case string `json:"case"`
		Kind string `json:"kind"`
	} `json:"changes"`
}

func changed(e entry, kind string) []string {
	var ids []string
	for _, c := range e.Changes {
		if c.Kind == kind {
			ids = append(ids, c.Case)
		}
	}
	return ids
}

// keep copies a page the spec made to $ARTIFACTS/history/ (to look at).
func keep(path, name string) {
	GinkgoHelper()
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		return
	}
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.MkdirAll(filepath.Join(dir, "history"), 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "history", name), b, 0o644)).To(Succeed())
}

var _ = Describe("history per commit, first bad commit and bisect", Ordered, func() {
	var s *scratch

	BeforeAll(func(ctx SpecContext) {
		tmp := GinkgoT().TempDir()
		s = &scratch{dir: filepath.Join(tmp, "repo"), regen: filepath.Join(tmp, "regen"), db: filepath.Join(tmp, "history.db"), runs: filepath.Join(tmp, "runs")}
		build := exec.CommandContext(ctx, "go", "build", "-o", s.regen, "../../cmd/regen")
		bout, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "build regen: %s", bout)
		src, err := os.ReadFile("testdata/fakeexec/main.go")
		Expect(err).NotTo(HaveOccurred())
		s.src = string(src)

		Expect(os.MkdirAll(s.dir, 0o755)).To(Succeed())
		s.git("init", "-q", "-b", "main")
		s.write("go.mod", "module fakeexec\n\ngo 1.26\n")
		s.write(".gitignore", "bin/\n")
		s.write("suite.yaml", suiteYAML)
		s.write("workflows/scene.json", sceneJSON)
		s.write("main.go", s.src)
		// Commit 1: the executor, the suite, and its approved goldens.
		Expect(os.MkdirAll(filepath.Join(s.dir, "golden"), 0o755)).To(Succeed())
		Expect(s.build()).To(BeTrue())
		code, out := s.replay("approve-1")
		Expect(code).To(Equal(2), out) // no goldens yet
		code, out = s.regenCmd("golden", "approve", "--from-run", filepath.Join(s.runs, "approve-1"), "--golden-dir", "golden")
		Expect(code).To(Equal(0), out)
		s.commit("executor: a fake sampler; the suite and its goldens")

		for i := 2; i <= 12; i++ {
			switch i {
			case 4:
				s.change("func main() {", "func main() {\n\tundefinedHelper()")
				s.commit("executor: start a helper (does not build)")
			case 5:
				s.change("const version = \"fake-1\"", "const version = \"fake-5\"")
				s.commit("executor: version 5; drop the helper")
			case 7:
				s.change("const version = \"fake-1\"", "const version = \"fake-5\"", "eulerGain = 1.0", "eulerGain = 1.4")
				s.commit("sampling: retune the euler gain")
			case 10:
				s.change("const version = \"fake-1\"", "const version = \"fake-5\"", "eulerGain = 1.0", "eulerGain = 1.4")
				Expect(s.build()).To(BeTrue())
				code, out := s.replay("approve-10")
				Expect(code).To(Equal(1), out)
				code, out = s.regenCmd("golden", "approve", "--from-run", filepath.Join(s.runs, "approve-10"), "--golden-dir", "golden", "--filter", "euler")
				Expect(code).To(Equal(0), out)
				s.commit("golden: approve the retuned euler outputs")
			default:
				gain := "eulerGain = 1.0"
				if i > 7 {
					gain = "eulerGain = 1.4"
				}
				version := "fake-1"
				if i >= 5 {
					version = "fake-5"
				}
				s.change("eulerGain = 1.0", gain, "const version = \"fake-1\"", fmt.Sprintf("const version = %q\n\n// Revision %d.", version, i))
				s.commit(fmt.Sprintf("executor: revision %d", i))
			}
		}
		Expect(s.commits).To(HaveLen(12))
	})

	It("records every commit that builds and names the first failure in a failing run's summary", func() {
		for i, c := range s.commits {
			s.git("checkout", "-q", c)
			if !s.build() {
				Expect(i+1).To(Equal(4), "only commit 4 is made not to build")
				continue
			}
			code, out := s.replay(fmt.Sprintf("c%02d", i+1), "--history", s.db)
			want := 0
			if i+1 >= 7 && i+1 < 10 {
				want = 1
			}
			Expect(code).To(Equal(want), "commit %d:\n%s", i+1, out)
			if i+1 == 8 {
				html, err := os.ReadFile(filepath.Join(s.runs, "c08", "report.html"))
				Expect(err).NotTo(HaveOccurred())
				Expect(strings.Count(string(html), `class="history-strip"`)).To(Equal(4), "a strip per case")
				Expect(string(html)).To(ContainSubstring("first failed at <code>" + s.commits[6][:10]))
				keep(filepath.Join(s.runs, "c08", "report.html"), "report-commit8.html")
				for _, id := range euler {
					Expect(out).To(ContainSubstring(fmt.Sprintf("history: %s: last pass %s (executor: revision 6), first failed at %s (sampling: retune the euler gain)",
						id, s.commits[5][:10], s.commits[6][:10])))
				}
			}
		}
		s.git("checkout", "-q", "main")
	})

	It("regen history names commit 7 as first bad for exactly the euler cases, and commit 10 as an approved change", func() {
		code, out := s.regenCmd("history", "--history", s.db, "--json")
		Expect(code).To(Equal(0), out)
		var lines []entry
		Expect(json.Unmarshal([]byte(out), &lines)).To(Succeed(), out)
		Expect(lines).To(HaveLen(11)) // 12 commits, commit 4 never built
		byCommit := map[string]entry{}
		for _, e := range lines {
			byCommit[e.Commit] = e
		}
		for i, c := range s.commits {
			e, ok := byCommit[c]
			if i+1 == 4 {
				Expect(ok).To(BeFalse())
				continue
			}
			Expect(ok).To(BeTrue(), "commit %d", i+1)
			switch i + 1 {
			case 7:
				Expect(changed(e, "regressed")).To(Equal(euler))
				Expect(e.Changes).To(HaveLen(2))
				Expect(e.Counts).To(Equal(map[string]int{"pass": 2, "fail": 2}))
			case 10:
				Expect(changed(e, "approved")).To(Equal(euler))
				Expect(e.Changes).To(HaveLen(2))
				Expect(e.Counts).To(Equal(map[string]int{"pass": 4}))
			default:
				Expect(e.Changes).To(BeEmpty(), "commit %d: %+v", i+1, e.Changes)
			}
		}
		code, out = s.regenCmd("history", "--history", s.db, "--case", euler[0])
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(s.commits[6][:10] + `\s+fail\s+.*<- regressed`))
		Expect(out).To(MatchRegexp(s.commits[9][:10] + `\s+pass\s+.*<- approved`))
		Expect(strings.Count(out, "<- ")).To(Equal(2), out)

		page := filepath.Join(s.runs, "history.html")
		code, out = s.regenCmd("report", "history", "--history", s.db, "--out", page)
		Expect(code).To(Equal(0), out)
		html, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		for _, want := range []string{"sampling: retune the euler gain", "golden: approve the retuned euler outputs",
			`<span class="kind regressed">regressed</span><code>scene[euler]/seed=1</code>, <code>scene[euler]/seed=2</code>`,
			`<span class="kind approved">approved</span>`, "<polyline"} {
			Expect(string(html)).To(ContainSubstring(want))
		}
		Expect(string(html)).NotTo(MatchRegexp(`(src|href)="https?:`), "self-contained")
		keep(page, "history.html")
	})

	It("regen bisect --good 1 --bad 12 finds commit 7 in at most 4 replays, skips the commit that does not build, and leaves the working tree alone", func() {
		// Uncommitted work in the user's tree must survive untouched.
		s.write("NOTES.md", "work in progress\n")
		s.write("main.go", s.src+"\n// an uncommitted edit\n")
		before := s.git("status", "--porcelain")
		head := s.git("rev-parse", "HEAD")
		mainGo, err := os.ReadFile(filepath.Join(s.dir, "main.go"))
		Expect(err).NotTo(HaveOccurred())

		args := []string{"bisect", "--good", s.commits[0], "--bad", s.commits[11], "--filter", regexp.QuoteMeta("scene[euler]"),
			"--prepare", prepare, "--executor", executor, "--suite", "suite.yaml", "--history", s.db}
		code, out := s.regenCmd(args...)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("first bad commit: " + s.commits[6] + " sampling: retune the euler gain"))
		Expect(out).To(MatchRegexp(`main\.go \| \d+ [+-]+\n\s+1 file changed`))
		Expect(out).To(MatchRegexp(`step \d: ` + s.commits[3][:10] + ` skip \(prepare`))
		m := regexp.MustCompile(`(\d+) replay\(s\) \+ the good commit's reference replay, 0 from history, 1 skipped`).FindStringSubmatch(out)
		Expect(m).NotTo(BeNil(), out)
		Expect(m[1]).To(BeElementOf("1", "2", "3", "4"))

		Expect(s.git("status", "--porcelain")).To(Equal(before))
		Expect(s.git("rev-parse", "HEAD")).To(Equal(head))
		Expect(os.ReadFile(filepath.Join(s.dir, "main.go"))).To(Equal(mainGo))
		Expect(s.git("worktree", "list")).NotTo(ContainSubstring("\n"), "no worktree was added to the user's repository")

		// A rerun answers from the history: no build, no replay.
		code, out = s.regenCmd(args...)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("first bad commit: " + s.commits[6]))
		Expect(out).To(MatchRegexp(`0 replay\(s\), \d+ from history, 1 skipped`))

		// The bisect's runs stay out of the per-commit history.
		code, out = s.regenCmd("history", "--history", s.db, "--json")
		Expect(code).To(Equal(0), out)
		Expect(bytes.Count([]byte(out), []byte(`"commit":`))).To(Equal(11))
	})
})
