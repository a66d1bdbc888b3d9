package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Environments are the overlays regen ships, in the order they are reported.
// The overlays a kustomize root really has are what Overlays finds; this list
// is what the golden renderings in testdata/ cover.
var Environments = []string{"dev", "prod", "gpu", "comfyui", "comfyui-cpu"}

// DefaultDir is the kustomize root, relative to the repository root.
const DefaultDir = "kustomize"

// kustomizationFiles are the names kustomize accepts for a kustomization.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Overlays returns the environments under root/overlays: every directory
// holding a kustomization, sorted by name. Adding an environment is adding
// such a directory; nothing lists them by hand.
func Overlays(root string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "overlays"))
	if err != nil {
		return nil, fmt.Errorf("list overlays: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		for _, k := range kustomizationFiles {
			if _, err := os.Stat(filepath.Join(root, "overlays", e.Name(), k)); err == nil {
				out = append(out, e.Name())
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// OverlayDir returns the overlay directory of env under the kustomize root;
// env must be one of Overlays(root).
func OverlayDir(root, env string) (string, error) {
	envs, err := Overlays(root)
	if err != nil {
		return "", fmt.Errorf("unknown environment %q: %w", env, err)
	}
	if !slices.Contains(envs, env) {
		return "", fmt.Errorf("unknown environment %q: use one of %s (the overlays under %s)", env, strings.Join(envs, ", "), filepath.Join(root, "overlays"))
	}
	return filepath.Join(root, "overlays", env), nil
}

// Render builds the kustomization in dir in-process and returns the rendered
// manifests as a multi-document YAML stream, in the kustomize CLI's (legacy)
// order. It fails on deprecated kustomization fields and remote resources
// before building.
func Render(ctx context.Context, dir string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckKustomizations(dir); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	k := krusty.MakeKustomizer(opts)
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("render %s: encode yaml: %w", dir, err)
	}
	return out, nil
}

// CheckKustomizations walks the kustomization in dir and every kustomization
// it reaches through resources, components (and the deprecated bases), and
// fails on deprecated fields, a wrong kind/apiVersion, unknown fields and
// remote references. All problems are reported together.
func CheckKustomizations(dir string) error {
	w := walker{seen: map[string]bool{}}
	w.walk(dir)
	return errors.Join(w.errs...)
}

type walker struct {
	seen map[string]bool
	errs []error
}

func (w *walker) walk(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("resolve %s: %w", dir, err))
		return
	}
	if w.seen[abs] {
		return
	}
	w.seen[abs] = true
	file, err := kustomizationFile(dir)
	if err != nil {
		w.errs = append(w.errs, err)
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("read kustomization: %w", err))
		return
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		w.errs = append(w.errs, fmt.Errorf("%s: %w (fix the field name; see https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/)", file, err))
		return
	}
	for _, msg := range k.EnforceFields() {
		w.errs = append(w.errs, fmt.Errorf("%s: %s", file, msg))
	}
	if msgs := k.CheckDeprecatedFields(); msgs != nil {
		for _, msg := range *msgs {
			msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), "#"))
			w.errs = append(w.errs, fmt.Errorf("%s: deprecated field: %s", file, msg))
		}
	}
	refs := make([]string, 0, len(k.Resources)+len(k.Components)+len(k.Bases))
	refs = append(refs, k.Bases...)
	refs = append(refs, k.Resources...)
	refs = append(refs, k.Components...)
	for _, ref := range refs {
		if isRemote(ref) {
			w.errs = append(w.errs, fmt.Errorf("%s: remote reference %q: regen renders offline and reproducibly; vendor it into kustomize/", file, ref))
			continue
		}
		p := filepath.Join(dir, ref)
		st, err := os.Stat(p)
		if err != nil {
			w.errs = append(w.errs, fmt.Errorf("%s: reference %q: %w", file, ref, err))
			continue
		}
		if st.IsDir() {
			w.walk(p)
		}
	}
}

// kustomizationFile returns the one kustomization file in dir.
func kustomizationFile(dir string) (string, error) {
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no kustomization.yaml in %s", dir)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%s has more than one kustomization file (%s): keep kustomization.yaml", dir, strings.Join(found, ", "))
	}
}

// isRemote reports whether a kustomization reference is a URL or a git repo.
func isRemote(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git@") ||
		strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "gitlab.com/")
}
