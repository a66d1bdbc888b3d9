package server

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
)

func (s *Server) getObjectInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSONResp(w, http.StatusOK, s.eng.ObjectInfo())
}

func (s *Server) getObjectInfoClass(w http.ResponseWriter, r *http.Request) {
	info, ok := s.eng.ObjectInfoClass(r.PathValue("class"))
	if !ok {
		writeJSONResp(w, http.StatusOK, ordered{})
		return
	}
	writeJSONResp(w, http.StatusOK, info)
}

// memInfo reads MemTotal and MemAvailable from /proc/meminfo (0 elsewhere).
func memInfo() (total, free int64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			free = v * 1024
		}
	}
	return total, free
}

func (s *Server) getSystemStats(w http.ResponseWriter, _ *http.Request) {
	total, free := memInfo()
	fp := s.backend.Fingerprint()
	devType := fp.Backend
	if devType == "" {
		devType = s.backend.Name()
	}
	vramTotal, vramFree := fp.VRAMTotal, fp.VRAMFree
	if devType == "cpu" || devType == "cuda-emulated" { // both compute in host memory
		vramTotal, vramFree = total, free
	}
	osName := "posix"
	if runtime.GOOS == "windows" {
		osName = "nt"
	}
	writeJSONResp(w, http.StatusOK, ordered{
		{"system", ordered{
			{"os", osName},
			{"ram_total", total},
			{"ram_free", free},
			{"comfyui_version", s.opts.Version},
			{"required_frontend_version", ""},
			{"installed_templates_version", ""},
			{"required_templates_version", ""},
			{"python_version", runtime.Version()},
			{"pytorch_version", ""},
			{"embedded_python", false},
			{"argv", os.Args},
		}},
		{"devices", []any{ordered{
			{"name", fp.Device},
			{"type", devType},
			{"index", 0},
			{"vram_total", vramTotal},
			{"vram_free", vramFree},
			{"torch_vram_total", vramTotal},
			{"torch_vram_free", vramFree},
		}}},
		{"regen", ordered{
			{"backend", s.backend.Name()},
			{"fingerprint", fp},
			{"go_version", runtime.Version()},
			{"nodes", len(s.reg.Names())},
		}},
	})
}
