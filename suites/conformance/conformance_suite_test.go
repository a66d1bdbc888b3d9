package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

// fixtureModels is the fixture models folder the in-process executor serves.
var fixtureModels string

func TestConformance(t *testing.T) {
	fixtureModels = testutil.Path(t, "fixtures", "models")
	RegisterFailHandler(Fail)
	RunSpecs(t, "ComfyUI protocol conformance")
}

// srv is the server under test for the whole suite.
var srv *server

var _ = BeforeSuite(func() {
	url := strings.TrimRight(os.Getenv("REGEN_CONFORMANCE_URL"), "/")
	if url == "" {
		url = startRegen()
	}
	srv = &server{Server: &comfyclient.Server{Base: url, Wait: 120 * time.Second, Poll: 20 * time.Millisecond}, run: randomHex(4)}
	srv.identify()
	AddReportEntry("server", srv.describe())
	GinkgoWriter.Printf("conformance target: %s\n", srv.describe())
})

// startRegen starts regen-executor in process on a free loopback port with
// the built-in nodes, the CPU backend and the fixture models, and returns
// its URL. It stops when the suite ends.
func startRegen() string {
	dir, err := os.MkdirTemp("", "regen-conformance-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	x, err := executor.New(executor.Options{
		Models: fixtureModels,
		Input:  filepath.Join(dir, "input"), Output: filepath.Join(dir, "output"), Temp: filepath.Join(dir, "temp"),
		Logger: testutil.Logger(),
	})
	Expect(err).NotTo(HaveOccurred())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Serve(ctx, ln) }()
	DeferCleanup(func() {
		cancel()
		Eventually(done, 20*time.Second).Should(Receive(BeNil()))
		Expect(x.Close()).To(Succeed())
	})
	return "http://" + ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// identify reads /system_stats: regen-executor answers a "regen" object
// next to ComfyUI's fields.
func (s *server) identify() {
	GinkgoHelper()
	var stats struct {
		System struct {
			Version string `json:"comfyui_version"`
		} `json:"system"`
		Regen json.RawMessage `json:"regen"`
	}
	var err error
	for range 50 { // a server started a moment ago may not listen yet
		var resp *http.Response
		resp, err = http.Get(s.Base + "/system_stats")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&stats)
			resp.Body.Close()
			if err == nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	Expect(err).NotTo(HaveOccurred(), "GET %s/system_stats", s.Base)
	s.kind = KindComfyUI
	if len(stats.Regen) > 0 {
		s.kind = KindRegen
	}
	s.version = stats.System.Version
}

func (s *server) describe() string {
	return s.kind + " " + s.version + " at " + s.Base
}

// differs skips the current spec when the server is known to differ in
// behaviour id (deviations.go), saying why. An id not in the list fails.
func differs(id string) {
	GinkgoHelper()
	d, ok := deviation(id)
	Expect(ok).To(BeTrue(), "deviation %q is not listed in deviations.go", id)
	if d.Differs(srv.kind) {
		Skip("known difference " + id + " on " + srv.kind + ": " + d.Why)
	}
}
