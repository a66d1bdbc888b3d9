package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/regen-dev/regen/executor/node"
)

// loadNode is LoadImage.
type loadNode struct{}

var (
	_ node.Node           = loadNode{}
	_ node.IsChanger      = loadNode{}
	_ node.InputValidator = loadNode{}
)

func (loadNode) Spec() node.Spec {
	return node.Spec{
		Name:               "LoadImage",
		SearchAliases:      []string{"load image", "open image", "import image", "image input", "upload image", "read image", "image loader"},
		EssentialsCategory: "Basics",
		DisplayName:        "Load Image",
		Category:           "image",
		Module:             "nodes",
		Inputs:             []node.Input{{Name: "image", ComboFolder: "input", ImageUpload: true}},
		Outputs:            []node.Output{{Type: node.TypeImage}, {Type: node.TypeMask}},
	}
}

func (loadNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	name := r.String("image")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	data, err := readInput(env, name)
	if err != nil {
		return node.Result{}, err
	}
	img, mask, err := decode(data)
	if err != nil {
		return node.Result{}, fmt.Errorf("load image %q: %w", name, err)
	}
	return node.Result{Outputs: []any{img, mask}}, nil
}

// IsChanged is the SHA-256 of the file, so that editing the input image
// invalidates the cache.
func (loadNode) IsChanged(env *node.Env, constants map[string]any) (string, bool, error) {
	r := node.Inputs(constants)
	name := r.String("image")
	if err := r.Err(); err != nil {
		return "", false, err
	}
	data, err := readInput(env, name)
	if err != nil {
		return "", false, err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), false, nil
}

func (loadNode) ValidatedInputs() []string { return []string{"image"} }
func (loadNode) SkipsTypeCheck() bool      { return false }

// ValidateInputs accepts any existing file inside the input folder (or the
// output/temp folder with a " [output]" / " [temp]" annotation), including
// "sub/name.png"; it refuses absolute paths and "..".
func (loadNode) ValidateInputs(env *node.Env, constants map[string]any) error {
	v, ok := constants["image"]
	if !ok {
		return nil
	}
	name, ok := v.(string)
	if !ok {
		return fmt.Errorf("invalid image file: got %T, want a file name", v)
	}
	root, rel, err := resolveInput(env, name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(root, rel))
	if err != nil || !fi.Mode().IsRegular() {
		// ComfyUI's words, without the server's folder path.
		return fmt.Errorf("Invalid image file: %s", name) //nolint:staticcheck // ComfyUI's message, capitalised as it is
	}
	return nil
}

// resolveInput splits an annotated LoadImage value into the folder it
// names and a local path inside it.
func resolveInput(env *node.Env, name string) (root, rel string, err error) {
	if env == nil {
		return "", "", fmt.Errorf("invalid image file %q: no environment", name)
	}
	root, rel = env.Dirs.Input, name
	for _, a := range []struct {
		suffix, dir string
	}{{"[output]", env.Dirs.Output}, {"[input]", env.Dirs.Input}, {"[temp]", env.Dirs.Temp}} {
		if s, ok := strings.CutSuffix(name, a.suffix); ok {
			root, rel = a.dir, strings.TrimSuffix(s, " ")
			break
		}
	}
	if root == "" {
		return "", "", fmt.Errorf("invalid image file %q: that folder is not configured", name)
	}
	if rel == "" {
		return "", "", fmt.Errorf("invalid image file %q: empty name", name)
	}
	slashed := filepath.ToSlash(rel)
	if filepath.IsAbs(rel) || strings.HasPrefix(slashed, "/") {
		return "", "", fmt.Errorf("invalid image file %q: absolute paths are not allowed; name a file inside the input folder, e.g. \"photo.png\", \"sub/photo.png\" or \"photo.png [output]\"", name)
	}
	for _, part := range strings.Split(slashed, "/") {
		if part == ".." {
			return "", "", fmt.Errorf("invalid image file %q: \"..\" is not allowed; name a file inside the input folder, e.g. \"photo.png\" or \"sub/photo.png\"", name)
		}
	}
	rel = filepath.FromSlash(rel)
	if !filepath.IsLocal(rel) {
		return "", "", fmt.Errorf("invalid image file %q: not a path inside the input folder", name)
	}
	return root, rel, nil
}

// readInput reads a LoadImage file through os.Root, so that a symlink
// cannot lead outside the folder either.
func readInput(env *node.Env, name string) ([]byte, error) {
	root, rel, err := resolveInput(env, name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenInRoot(root, rel)
	if err != nil {
		return nil, fmt.Errorf("open image %q: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read image %q: %w", name, err)
	}
	return data, nil
}
