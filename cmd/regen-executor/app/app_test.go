package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/version"
)

func TestRunUsageAndExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of what ExitCode prints
	}{
		{name: "help", args: []string{"-h"}, wantCode: ExitOK},
		{name: "version", args: []string{"--version"}, wantCode: ExitOK, wantOut: "regen-executor " + version.String()},
		{name: "unknown flag", args: []string{"--no-such-flag"}, wantCode: ExitUsage, wantErr: "Try: regen-executor -h"},
		{name: "bad flag value", args: []string{"--max-history", "many"}, wantCode: ExitUsage, wantErr: "parse flags"},
		{name: "stray argument", args: []string{"serve"}, wantCode: ExitUsage, wantErr: `unexpected arguments ["serve"]`},
		{name: "unknown backend", args: []string{"--backend", "tpu", "--listen", "127.0.0.1:0"}, wantCode: ExitUsage, wantErr: `unknown backend "tpu"`},
		{name: "tf32 on cpu", args: []string{"--tf32", "--listen", "127.0.0.1:0"}, wantCode: ExitUsage, wantErr: "--tf32 with --backend cpu"},
		{name: "nondeterministic on cpu", args: []string{"--nondeterministic", "--listen", "127.0.0.1:0"}, wantCode: ExitUsage, wantErr: "--nondeterministic with --backend cpu"},
		{name: "nondeterministic on cuda", args: []string{"--backend", "cuda", "--nondeterministic", "--listen", "127.0.0.1:0"}, wantCode: ExitUsage,
			wantErr: "--nondeterministic with --backend cuda (want cuda-emulated)"},
		{name: "unknown log format", args: []string{"--log-format", "xml"}, wantCode: ExitUsage, wantErr: `unknown --log-format "xml"`},
		{name: "cuda not compiled in", args: []string{"--backend", "cuda", "--listen", "127.0.0.1:0"}, wantCode: ExitError,
			wantErr: "CUDA support is not compiled in; build with -tags cuda (make cuda)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "cuda not compiled in" && cudaCompiledIn {
				t.Skip("built with -tags cuda")
			}
			var out, errb, printed bytes.Buffer
			err := Run(context.Background(), tc.args, &out, &errb)
			code := ExitCode(err, &printed)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (err %v)", code, tc.wantCode, err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tc.wantOut)
			}
			if !strings.Contains(printed.String(), tc.wantErr) {
				t.Errorf("ExitCode printed %q, want it to contain %q", printed.String(), tc.wantErr)
			}
			if tc.wantCode == ExitOK && printed.Len() != 0 {
				t.Errorf("ExitCode printed %q for success", printed.String())
			}
		})
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	metricsAddr := free.Addr().String()
	free.Close()
	addr := serve(t, "--listen", "127.0.0.1:0", "--models", dir+"/m", "--input", dir+"/i",
		"--output", dir+"/o", "--temp", dir+"/t", "--log-format", "json", "--metrics-listen", metricsAddr, "--max-batch", "8")
	resp, err := http.Get(addr + "/api/system_stats")
	if err != nil {
		t.Fatalf("GET system_stats: %v", err)
	}
	var stats struct {
		Devices []struct{ Type string }  `json:"devices"`
		Regen   struct{ Backend string } `json:"regen"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if len(stats.Devices) != 1 || stats.Devices[0].Type != "cpu" || stats.Regen.Backend != "cpu" {
		t.Errorf("system_stats = %+v", stats)
	}
	// --max-batch reaches validation: a batch of 9 is a 400 naming it.
	presp, err := http.Post(addr+"/prompt", "application/json", strings.NewReader(`{"prompt": {
	 "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
	 "2": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 9}},
	 "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
	 "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}}}`))
	if err != nil {
		t.Fatalf("POST prompt: %v", err)
	}
	pb, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != http.StatusBadRequest || !strings.Contains(string(pb), "--max-batch of 8") {
		t.Errorf("POST /prompt with batch 9 under --max-batch 8: %d %s", presp.StatusCode, pb)
	}
	mresp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET metrics port: %v", err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mb), "regen_executor_queue_depth") {
		t.Errorf("metrics port does not serve the executor's metrics")
	}
}

// TestRunCudaEmulated: --backend cuda-emulated with --tf32 and
// --nondeterministic serves, and /system_stats says what it is: the device
// type and backend cuda-emulated, precision tf32, the nondeterministic flag
// and a class of its own.
func TestRunCudaEmulated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := serve(t, "--listen", "127.0.0.1:0", "--backend", "cuda-emulated", "--tf32", "--nondeterministic",
		"--models", dir+"/m", "--input", dir+"/i", "--output", dir+"/o", "--temp", dir+"/t", "--log-format", "json")
	resp, err := http.Get(addr + "/system_stats")
	if err != nil {
		t.Fatalf("GET system_stats: %v", err)
	}
	var stats struct {
		Devices []struct {
			Name      string `json:"name"`
			Type      string `json:"type"`
			VRAMTotal int64  `json:"vram_total"`
		} `json:"devices"`
		Regen struct {
			Backend     string `json:"backend"`
			Fingerprint struct {
				Backend          string `json:"backend"`
				Precision        string `json:"precision"`
				Class            string `json:"class"`
				Nondeterministic bool   `json:"nondeterministic"`
			} `json:"fingerprint"`
		} `json:"regen"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatalf("decode system_stats: %v", err)
	}
	resp.Body.Close()
	fp := stats.Regen.Fingerprint
	if len(stats.Devices) != 1 || stats.Devices[0].Type != "cuda-emulated" || !strings.Contains(stats.Devices[0].Name, "emulated") ||
		stats.Regen.Backend != "cuda-emulated" || fp.Backend != "cuda-emulated" || fp.Precision != "tf32" ||
		fp.Class != "cuda-emulated-tf32-nondet" || !fp.Nondeterministic {
		t.Errorf("system_stats = %+v", stats)
	}
	if len(stats.Devices) == 1 && stats.Devices[0].VRAMTotal <= 0 {
		t.Errorf("devices[0].vram_total = %d, want the host memory the emulator uses", stats.Devices[0].VRAMTotal)
	}
}

// serve starts Run with args, returns the base URL it prints once serving,
// and at the end of the test stops it and checks that it returns nil in
// time (a graceful shutdown).
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after shutdown", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return")
		}
	})
	line := make([]byte, 256)
	n, _ := pr.Read(line)
	i := strings.Index(string(line[:n]), "http://")
	if i < 0 {
		t.Fatalf("no address in %q", line[:n])
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(string(line[i:n]))
}
