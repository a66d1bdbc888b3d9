package generation_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/internal/testutil"
)

const (
	modelsDir  = "../../fixtures/models"
	inputImage = "../../fixtures/inputs/scene-256.png"
	// runTimeout bounds one prompt; a 128×128 12-step run takes well under
	// a second without -race.
	runTimeout = 2 * time.Minute
)

func TestGeneration(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Generation behaviour Suite", Label("generation"))
}

var (
	// cl talks to the suite's executor.
	cl *client.Client
	// inputName is the uploaded scene-256.png as LoadImage names it.
	inputName string
)

// The executor runs in process 1; with ginkgo -p the other processes share
// it through its URL.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	dir, err := os.MkdirTemp("", "regen-generation-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	srv, err := executor.New(executor.Options{
		Models: modelsDir, Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp",
		Logger: slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	DeferCleanup(func() {
		cancel()
		Eventually(done, 20*time.Second).Should(Receive(BeNil()))
	})
	url := "http://" + ln.Addr().String()
	c, err := client.New(url, client.WithLogger(testutil.Logger()))
	Expect(err).NotTo(HaveOccurred())
	Expect(c.WaitReady(ctx, 20*time.Millisecond)).To(Succeed())
	return []byte(url)
}, func(ctx SpecContext, url []byte) {
	var err error
	cl, err = client.New(string(url), client.WithLogger(testutil.Logger()), client.WithPollInterval(20*time.Millisecond))
	Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(inputImage)
	Expect(err).NotTo(HaveOccurred())
	// Overwrite keeps the name stable when several processes upload it.
	inputName, err = cl.Upload(ctx, "scene-256.png", data, client.UploadOptions{Overwrite: true})
	Expect(err).NotTo(HaveOccurred())
})

// note prints a measured value to GinkgoWriter and records it as a report
// entry, so that the JSON/JUnit report carries the numbers.
func note(name, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(GinkgoWriter, "%s: %s\n", name, msg)
	AddReportEntry(name, msg)
}
