package executor

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/node"
)

// comboResolver returns a memoising COMBO resolver (one per request or
// validation, so a folder is listed once).
func (s *Server) comboResolver() func(node.Input) []string {
	memo := map[string][]string{}
	return func(in node.Input) []string {
		if in.ComboFolder == "" {
			return in.Combo
		}
		if l, ok := memo[in.ComboFolder]; ok {
			return l
		}
		var l []string
		if in.ComboFolder == "input" {
			l = listFiles(s.dirs.Input, false, imageExtensions)
		} else if validFolderName(in.ComboFolder) {
			l = listFiles(s.modelFolder(in.ComboFolder), true, modelExtensions)
		}
		if l == nil {
			l = []string{}
		}
		memo[in.ComboFolder] = l
		return l
	}
}

// newValidator returns a validator whose node envs belong to it (nil at
// submission).
func (s *Server) newValidator(it *item) *validator {
	return &validator{
		reg:    s.reg,
		combos: s.comboResolver(),
		env: func(id string) *node.Env {
			return s.nodeEnv(it, id, "", s.log)
		},
	}
}

func (s *Server) getObjectInfo(w http.ResponseWriter, _ *http.Request) {
	combos := s.comboResolver()
	out := ordered{}
	for _, name := range s.reg.Names() {
		n, _ := s.reg.Get(name)
		out = append(out, field{name, nodeInfo(n.Spec(), combos)})
	}
	writeJSONResp(w, http.StatusOK, out)
}

func (s *Server) getObjectInfoClass(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("class")
	n, ok := s.reg.Get(name)
	if !ok {
		writeJSONResp(w, http.StatusOK, ordered{})
		return
	}
	writeJSONResp(w, http.StatusOK, ordered{{name, nodeInfo(n.Spec(), s.comboResolver())}})
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
	if devType == "cpu" {
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
