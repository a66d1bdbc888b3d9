package executor_test

import (
	"context"
	"log/slog"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/server"
	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

// harness is one running executor and the raw client for it.
type harness struct {
	*comfyclient.Server
	dirs node.Dirs
	runs *runCounter
}

// startExecutor starts a fresh executor on a loopback port for the current
// spec and stops it when the spec ends.
func startExecutor() *harness {
	GinkgoHelper()
	pack, runs := testPack()
	reg, err := node.NewRegistry(pack...)
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	dirs := node.Dirs{Models: dir + "/models", Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"}
	srv, err := server.New(server.Options{
		Dirs: dirs, Backend: cpu.New(), Registry: reg, MaxUploadSize: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	Expect(err).NotTo(HaveOccurred())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	DeferCleanup(func() {
		cancel()
		Eventually(done, 20*time.Second).Should(Receive(BeNil()))
	})
	return &harness{Server: &comfyclient.Server{Base: "http://" + ln.Addr().String()}, dirs: dirs, runs: runs}
}

// connect opens /ws for clientID and checks the greeting: status with the
// sid.
func (h *harness) connect(clientID string) *comfyclient.WS {
	GinkgoHelper()
	c, first := h.Dial(clientID)
	Expect(first.Type).To(Equal("status"))
	Expect(first.Data).To(HaveKeyWithValue("sid", clientID))
	return c
}
