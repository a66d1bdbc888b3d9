package hostnode_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
)

var _ = Describe("a run killed with its host node up", Ordered, Serial, func() {
	It("leaves a ledger that the next run uses to restore the machine", func(ctx SpecContext) {
		before := readHostState(ctx)

		// The real CLI, from the repository root with its defaults, killed
		// (SIGKILL: no teardown runs) once its pod serves.
		cmd := exec.Command(filepath.Join(exeDir, "regen"), "run", "--env", "dev", "--cluster", "host",
			"--kube-bin", binDir, "--report", GinkgoT().TempDir(), "--filter", "txt2img-els")
		cmd.Dir = repo
		stderr, err := cmd.StderrPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		deployed := make(chan struct{})
		var killedState string // "host node … up …(state DIR)", read before deployed closes
		stateRE := regexp.MustCompile(`^host node .* up .*\(state (\S+)\)$`)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				GinkgoWriter.Println("regen:", sc.Text())
				if m := stateRE.FindStringSubmatch(sc.Text()); m != nil {
					killedState = m[1]
				}
				if strings.HasPrefix(sc.Text(), "deployed overlay dev") {
					close(deployed)
				}
			}
		}()
		select {
		case <-deployed:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			Fail("the run never reported its deployment")
		}
		Expect(cmd.Process.Kill()).To(Succeed())
		_ = cmd.Wait()

		// What a crash leaves: the ledger, the links, the pod's processes
		// (containerd and the kubelet stop with their parent; shims do not).
		Expect("/run/regen-host-node.json").To(BeAnExistingFile())
		Eventually(func() []string { return readHostState(ctx).Links }).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())
		Expect(readHostState(ctx).Procs).NotTo(BeEmpty(), "the shims and the executor outlive a killed run")

		// The next run sweeps it first, then works.
		runDir := GinkgoT().TempDir()
		var notes []string
		st, err := suite.Load(filepath.Join(repo, "fixtures", "suite.yaml"))
		Expect(err).NotTo(HaveOccurred())
		rec, err := runner.Run(ctx, runner.Options{
			Suite: st, SuitePath: filepath.Join(repo, "fixtures", "suite.yaml"), Class: "cpu",
			Target:    newTarget(runDir, filepath.Join(repo, "kustomize"), 2*time.Minute, &notes),
			GoldenDir: filepath.Join(repo, "golden"), RunDir: runDir, Logger: logger(),
			Filter: regexp.MustCompile(`^txt2img-els/`),
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Cases).To(HaveLen(1))
		Expect(rec.Cases[0].Verdict).To(Equal(report.Pass))
		Expect("/run/regen-host-node.json").NotTo(BeAnExistingFile())
		expectHostRestored(ctx, before)
		// The killed run's state dir keeps only its logs.
		Expect(killedState).NotTo(BeEmpty(), "the killed run named its state dir")
		Expect(filepath.Join(killedState, "logs", "kubelet.log")).To(BeAnExistingFile())
		Expect(filepath.Join(killedState, "host", "containerd")).NotTo(BeAnExistingFile())
		Expect(os.RemoveAll(killedState)).To(Succeed())
	}, NodeTimeout(6*time.Minute))
})
