package executor_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor"
)

// retained is the heap memory the process holds from the OS.
func retained() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapSys - m.HeapReleased
}

// After /free {"free_memory": true} the cached outputs are dropped and their
// memory goes back to the OS at once, as ComfyUI's /free empties its caches
// (main.py prompt_worker): without that an idle server would keep it until
// the runtime's next forced GC and scavenge, minutes later. Not parallel:
// it measures the process.
func TestFreeReturnsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 MB")
	}
	dir := t.TempDir()
	x, err := executor.New(executor.Options{Models: dir + "/models", Input: dir + "/in", Output: dir + "/out", Temp: dir + "/tmp", Logger: quiet()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
		_ = x.Close()
	}()
	base := "http://" + ln.Addr().String()

	// 2 × 2048² RGB float32: 96 MiB held by the output cache.
	const cachedBytes = 2 * 2048 * 2048 * 3 * 4
	body := `{"prompt": {"1": {"class_type": "SolidColorImage", "inputs": {"width": 2048, "height": 2048, "batch_size": 2, "color": "#336699"}},
		"2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact", "width": 8, "height": 8, "crop": "disabled"}},
		"3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}}`
	resp, err := http.Post(base+"/prompt", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /prompt: %v", err)
	}
	var sub struct {
		PromptID string `json:"prompt_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if err != nil || sub.PromptID == "" {
		t.Fatalf("POST /prompt: %v %+v", err, sub)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var h map[string]any
		getJSON(t, base+"/history/"+sub.PromptID, &h)
		if len(h) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the prompt did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	before := retained()

	resp, err = http.Post(base+"/free", "application/json", strings.NewReader(`{"unload_models": true, "free_memory": true}`))
	if err != nil {
		t.Fatalf("POST /free: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /free: %s", resp.Status)
	}
	start := time.Now()
	after := retained()
	for before-min(before, after) < cachedBytes*3/4 && time.Since(start) < 5*time.Second {
		time.Sleep(20 * time.Millisecond)
		after = retained()
	}
	t.Logf("heap held from the OS: %.1f MiB before /free, %.1f MiB %v after (cached outputs: %.1f MiB)",
		float64(before)/(1<<20), float64(after)/(1<<20), time.Since(start).Round(time.Millisecond), float64(cachedBytes)/(1<<20))
	if freed := before - min(before, after); freed < cachedBytes*3/4 {
		t.Errorf("/free returned %.1f MiB to the OS within 5s, want at least %.1f MiB of the %.1f MiB cached",
			float64(freed)/(1<<20), float64(cachedBytes*3/4)/(1<<20), float64(cachedBytes)/(1<<20))
	}
}
