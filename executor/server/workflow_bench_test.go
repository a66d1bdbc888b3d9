//go:build !race

// The workflow benchmark runs minutes of real sampling; under the race
// detector (~20× slower) it is left out of the build.

package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/executor/server"
)

// txt2img512 is the API-format workflow BenchmarkWorkflow512Euler runs:
// 512×512 (a 64×64 latent), euler/normal, 20 steps, cfg 7.
func txt2img512(ckpt string) string {
	return `{
  "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "` + ckpt + `"}},
  "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a red circle on sky"}},
  "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": ""}},
  "4": {"class_type": "EmptyLatentImage", "inputs": {"batch_size": 1, "height": 512, "width": 512}},
  "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
        "latent_image": ["4", 0], "seed": 1, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
        "scheduler": "normal", "denoise": 1.0}},
  "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
  "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "bench"}}
}`
}

// BenchmarkWorkflow512Euler measures the wall time of the 512×512 20-step
// euler txt2img workflow per mode, through the real server: each iteration
// starts a fresh executor on a loopback listener (untimed, so nothing is
// cached: the checkpoint load is part of the workflow), then POSTs /prompt
// and polls /history until the prompt is done (timed). It reports
// s/workflow and, from the server's own /metrics, the seconds per node
// class (s/KSampler, s/VAEDecode, ...); it checks that the prompt
// succeeded and wrote one 512×512 PNG.
//
//	go test -run '^$' -bench Workflow512Euler -benchtime 1x ./executor/server
func BenchmarkWorkflow512Euler(b *testing.B) {
	if testing.Short() {
		b.Skip("heavy: skipped under -short")
	}
	models, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "models"))
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"gmm", "els"} {
		b.Run(mode, func(b *testing.B) {
			body := `{"prompt": ` + txt2img512("regen-"+mode+".safetensors") + `}`
			perClass := map[string]float64{}
			var total time.Duration
			for range b.N {
				b.StopTimer()
				srv := startBenchServer(b, models)
				b.StartTimer()
				t0 := time.Now()
				id := srv.submit(b, body)
				srv.wait(b, id)
				total += time.Since(t0)
				b.StopTimer()
				for k, v := range srv.nodeSeconds(b) {
					perClass[k] += v
				}
				srv.checkImage(b)
				srv.stop(b)
				b.StartTimer()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/workflow")
			classes := make([]string, 0, len(perClass))
			for k := range perClass {
				classes = append(classes, k)
			}
			slices.Sort(classes)
			for _, k := range classes {
				if s := perClass[k] / float64(b.N); s >= 0.001 { // the rest is noise
					b.ReportMetric(s, "s/"+k)
				}
			}
		})
	}
}

type benchServer struct {
	url    string
	out    string
	cancel context.CancelFunc
	done   chan error
}

func startBenchServer(b *testing.B, models string) *benchServer {
	b.Helper()
	dir := b.TempDir()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		b.Fatalf("registry: %v", err)
	}
	srv, err := server.New(server.Options{
		Dirs:     node.Dirs{Models: models, Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"},
		Backend:  cpu.New(),
		Registry: reg,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatalf("new executor: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &benchServer{url: "http://" + ln.Addr().String(), out: dir + "/output", cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	return s
}

func (s *benchServer) stop(b *testing.B) {
	b.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			b.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		b.Errorf("serve did not return after cancel")
	}
}

func (s *benchServer) submit(b *testing.B, body string) string {
	b.Helper()
	resp, err := http.Post(s.url+"/prompt", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatalf("POST /prompt: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST /prompt: %d %s", resp.StatusCode, raw)
	}
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.PromptID == "" {
		b.Fatalf("decode /prompt reply %q: %v", raw, err)
	}
	return r.PromptID
}

// wait polls /history/{id} until the entry appears and fails unless the
// prompt completed.
func (s *benchServer) wait(b *testing.B, id string) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		raw := s.get(b, "/history/"+id)
		var h map[string]struct {
			Status struct {
				StatusStr string `json:"status_str"`
				Completed bool   `json:"completed"`
			} `json:"status"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			b.Fatalf("decode history: %v", err)
		}
		if e, ok := h[id]; ok {
			if !e.Status.Completed {
				b.Fatalf("prompt %s: %s: %s", id, e.Status.StatusStr, raw)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("prompt %s did not finish in 10 minutes", id)
}

func (s *benchServer) get(b *testing.B, path string) []byte {
	b.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return raw
}

// nodeSeconds reads regen_executor_node_execution_seconds_sum per class
// from the server's /metrics.
func (s *benchServer) nodeSeconds(b *testing.B) map[string]float64 {
	b.Helper()
	const prefix = `regen_executor_node_execution_seconds_sum{class="`
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(s.get(b, "/metrics"))))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		class, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			b.Fatalf("metrics line %q", sc.Text())
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			b.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		out[class] += v
	}
	if out["KSampler"] <= 0 {
		b.Fatalf("no KSampler time in /metrics")
	}
	return out
}

// checkImage fails unless the output folder holds exactly one 512×512 PNG.
func (s *benchServer) checkImage(b *testing.B) {
	b.Helper()
	files, err := filepath.Glob(filepath.Join(s.out, "bench*.png"))
	if err != nil || len(files) != 1 {
		b.Fatalf("outputs %v (%v), want one bench*.png", files, err)
	}
	f, err := os.Open(files[0])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		b.Fatalf("decode %s: %v", files[0], err)
	}
	if got := fmt.Sprintf("%dx%d", cfg.Width, cfg.Height); got != "512x512" {
		b.Fatalf("%s is %s, want 512x512", files[0], got)
	}
}
