package engine

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regen-dev/regen/executor/node"
)

// modelExtensions are the files listed in model folders (ComfyUI's
// supported_pt_extensions).
var modelExtensions = map[string]bool{".safetensors": true, ".ckpt": true, ".pt": true, ".pth": true,
	".bin": true, ".pkl": true, ".sft": true, ".pt2": true}

// imageExtensions are the files LoadImage lists from the input folder.
var imageExtensions = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true,
	".gif": true, ".bmp": true, ".tif": true, ".tiff": true}

// ListModels lists the model files under dir, recursively, as COMBO inputs
// offer them: slash-separated relative paths, sorted; empty (not nil) when
// dir is empty or missing.
func ListModels(dir string) []string { return listFiles(dir, true, modelExtensions) }

// listFiles lists regular files under dir (recursively when deep) whose
// extension is in exts, as slash-separated relative paths, sorted.
func listFiles(dir string, deep bool, exts map[string]bool) []string {
	files := []string{}
	if dir == "" {
		return files
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && (!deep || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !exts[strings.ToLower(filepath.Ext(p))] {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files
}

// ValidFolderName accepts a single path element (a model folder, an upload's
// file name).
func ValidFolderName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

func (en *Engine) modelFolder(name string) string {
	if en.dirs.Models == "" {
		return ""
	}
	return filepath.Join(en.dirs.Models, name)
}

// comboResolver returns a memoising COMBO resolver (one per request or
// validation, so a folder is listed once).
func (en *Engine) comboResolver() func(node.Input) []string {
	memo := map[string][]string{}
	return func(in node.Input) []string {
		if in.ComboFolder == "" {
			return in.Combo
		}
		l, ok := memo[in.ComboFolder]
		if !ok {
			if in.ComboFolder == "input" {
				l = listFiles(en.dirs.Input, false, imageExtensions)
			} else if ValidFolderName(in.ComboFolder) {
				l = listFiles(en.modelFolder(in.ComboFolder), true, modelExtensions)
			}
			if l == nil {
				l = []string{}
			}
			memo[in.ComboFolder] = l
		}
		if len(in.ComboExtra) > 0 {
			l = append(append(make([]string, 0, len(l)+len(in.ComboExtra)), l...), in.ComboExtra...)
		}
		return l
	}
}

// newValidator returns a validator whose node envs belong to it (nil at
// submission).
func (en *Engine) newValidator(it *item) *validator {
	return &validator{
		limits: en.limits,
		reg:    en.reg,
		combos: en.comboResolver(),
		env: func(id string) *node.Env {
			return en.nodeEnv(it, id, "", en.log)
		},
	}
}

// ObjectInfo is ComfyUI's /object_info: every node class by name, with its
// COMBO folders listed now.
func (en *Engine) ObjectInfo() json.Marshaler {
	combos := en.comboResolver()
	out := ordered{}
	for _, name := range en.reg.Names() {
		n, _ := en.reg.Get(name)
		out = append(out, field{name, nodeInfo(n.Spec(), combos)})
	}
	return out
}

// ObjectInfoClass is /object_info/{class}: the class's entry, and false
// when there is no such class.
func (en *Engine) ObjectInfoClass(name string) (json.Marshaler, bool) {
	n, ok := en.reg.Get(name)
	if !ok {
		return nil, false
	}
	return ordered{{name, nodeInfo(n.Spec(), en.comboResolver())}}, true
}
