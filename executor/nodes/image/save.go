package image

import (
	"context"
	"crypto/rand"
	"fmt"
	"image/png"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
	"github.com/regen-dev/regen/internal/atomicfile"
)

// saveLevel is SaveImage's PNG compression. ComfyUI passes Pillow
// compress_level 4 (preview: 1); Go's encoder offers only default (zlib 6),
// speed (1) and best (9), and the byte streams differ from Pillow's
// anyway: the pixels are what a run compares (the exact tier hashes the
// decoded pixels). Speed, because zlib 6 was a tenth of the 1024² suite
// case's CPU: on that case's 1024² output, encoding at level 1 takes a
// quarter of level 6's time, for a file about 30 % larger
// (BenchmarkEncodePNG/1024-*).
const saveLevel = png.BestSpeed

// saveNode is SaveImage (preview=false) and PreviewImage (preview=true).
type saveNode struct {
	preview bool
	// now is the clock for %year% ... %second%; nil means time.Now.
	now func() time.Time
	// rand is the entropy for PreviewImage's suffix; nil means crypto/rand.
	rand io.Reader
}

var (
	_ node.Node = (*saveNode)(nil)
)

func (n *saveNode) Spec() node.Spec {
	hidden := []node.HiddenInput{
		{Name: "prompt", Kind: node.HiddenPrompt},
		{Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo},
	}
	if n.preview {
		return node.Spec{
			Name:               "PreviewImage",
			SearchAliases:      []string{"preview", "preview image", "show image", "view image", "display image", "image viewer"},
			EssentialsCategory: "Basics",
			DisplayName:        "Preview Image",
			Category:           "image",
			Description:        "Preview the images without saving them to the ComfyUI output directory.",
			Module:             "nodes",
			Inputs:             []node.Input{{Name: "images", Type: node.TypeImage}},
			Outputs:            passThrough,
			Hidden:             hidden,
			OutputNode:         true,
		}
	}
	return node.Spec{
		Name:               "SaveImage",
		SearchAliases:      []string{"save", "save image", "export image", "output image", "write image", "download"},
		EssentialsCategory: "Basics",
		DisplayName:        "Save Image",
		Category:           "image",
		Description:        "Saves the input images to your ComfyUI output directory.",
		Module:             "nodes",
		Inputs: []node.Input{
			{Name: "images", Type: node.TypeImage, Tooltip: "The images to save."},
			{Name: "filename_prefix", Type: node.TypeString, Default: "ComfyUI",
				Tooltip: "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."},
		},
		Outputs:    passThrough,
		Hidden:     hidden,
		OutputNode: true,
	}
}

// passThrough is SaveImage's and PreviewImage's output since ComfyUI 0.33.0
// (RETURN_TYPES ("IMAGE",), RETURN_NAMES ("images",)): the images they were
// given, so that a graph can go on from a saved image.
var passThrough = []node.Output{{Type: node.TypeImage, Name: "images"}}

func (n *saveNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	images := r.Image("images")
	prefix := "ComfyUI"
	if !n.preview {
		prefix = r.String("filename_prefix")
	}
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if images == nil || images.N == 0 {
		return node.Result{}, fmt.Errorf("save images: empty batch")
	}
	if env == nil {
		return node.Result{}, fmt.Errorf("save images: no environment")
	}
	dir, typ, level := env.Dirs.Output, "output", saveLevel
	if n.preview {
		suffix, err := randomLetters(n.rand, 5)
		if err != nil {
			return node.Result{}, err
		}
		prefix += "_temp_" + suffix
		dir, typ, level = env.Dirs.Temp, "temp", png.BestSpeed
	}
	if dir == "" {
		return node.Result{}, fmt.Errorf("save images: no %s directory configured", typ)
	}
	now := time.Now
	if n.now != nil {
		now = n.now
	}
	plan, err := planSave(prefix, dir, images.W, images.H, images.N, now())
	if err != nil {
		return node.Result{}, err
	}
	text, err := metadata(env)
	if err != nil {
		return node.Result{}, err
	}
	refs := make([]any, 0, images.N)
	for b := range images.N {
		if err := ctx.Err(); err != nil {
			return node.Result{}, fmt.Errorf("save images: %w", err)
		}
		data, err := pngmeta.Encode(images, b, text, level)
		if err != nil {
			return node.Result{}, err
		}
		name := plan.fileName(b)
		if err := atomicfile.WriteFile(filepath.Join(plan.folder, name), data, 0o644); err != nil {
			return node.Result{}, err
		}
		env.Log().Debug("saved image", "file", name, "subfolder", plan.subfolder, "type", typ)
		refs = append(refs, node.ImageRef{Filename: name, Subfolder: plan.subfolder, Type: typ})
	}
	return node.Result{Outputs: []any{images}, UI: map[string][]any{"images": refs}}, nil
}

// metadata builds the tEXt chunks ComfyUI writes: "prompt" then one per
// extra_pnginfo key, each as Python's json.dumps would print it.
func metadata(env *node.Env) ([]node.KV, error) {
	if env.DisableMetadata {
		return nil, nil
	}
	var text []node.KV
	if len(env.Prompt) > 0 {
		v, err := pngmeta.PyJSON(env.Prompt)
		if err != nil {
			return nil, fmt.Errorf("encode prompt metadata: %w", err)
		}
		text = append(text, node.KV{Key: "prompt", Value: v})
	}
	for _, kv := range env.ExtraPNGInfo {
		raw := kv.Value
		if len(raw) == 0 {
			raw = []byte("null")
		}
		v, err := pngmeta.PyJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("encode extra_pnginfo %q: %w", kv.Key, err)
		}
		text = append(text, node.KV{Key: kv.Key, Value: v})
	}
	return text, nil
}

// savePlan is where a batch goes (folder_paths.get_save_image_path).
type savePlan struct {
	folder    string // absolute folder the files are written into
	subfolder string // relative to the base dir, slash-separated, "" for none
	filename  string // base name, may still hold %batch_num%
	counter   int    // number of the first image
}

func (p savePlan) fileName(batch int) string {
	f := strings.ReplaceAll(p.filename, "%batch_num%", strconv.Itoa(batch))
	return fmt.Sprintf("%s_%05d_.png", f, p.counter+batch)
}

// planSave resolves a filename prefix against base: server-side
// substitutions, the subfolder (which must stay inside base), and the
// counter: 1 + the highest number among files in the folder named
// "<filename>_<digits>..." (case-insensitive), 1 if none.
//
// ComfyUI looks the counter up with "%batch_num%" still in the name, which
// never matches, so a prefix holding %batch_num% restarts at 1 and overwrites
// earlier files. Here the lookup covers every batch-substituted name, so the
// first run is named as in ComfyUI and later runs do not overwrite it.
func planSave(prefix, base string, width, height, batch int, now time.Time) (savePlan, error) {
	if strings.Contains(prefix, "%") {
		prefix = strings.NewReplacer(
			"%width%", strconv.Itoa(width),
			"%height%", strconv.Itoa(height),
			"%year%", strconv.Itoa(now.Year()),
			"%month%", fmt.Sprintf("%02d", int(now.Month())),
			"%day%", fmt.Sprintf("%02d", now.Day()),
			"%hour%", fmt.Sprintf("%02d", now.Hour()),
			"%minute%", fmt.Sprintf("%02d", now.Minute()),
			"%second%", fmt.Sprintf("%02d", now.Second()),
		).Replace(prefix)
	}
	clean := filepath.Clean(filepath.FromSlash(prefix))
	sub, file := filepath.Dir(clean), filepath.Base(clean)
	if sub == "." {
		sub = ""
	}
	if sub != "" && !filepath.IsLocal(sub) || file == ".." || filepath.IsAbs(clean) {
		return savePlan{}, fmt.Errorf("save image %q: saving outside the output folder is not allowed", prefix)
	}
	folder := filepath.Join(base, sub)
	p := savePlan{folder: folder, subfolder: filepath.ToSlash(sub), filename: file, counter: 1}
	entries, err := os.ReadDir(folder)
	if os.IsNotExist(err) {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return savePlan{}, fmt.Errorf("create output folder: %w", err)
		}
		return p, nil
	}
	if err != nil {
		return savePlan{}, fmt.Errorf("list output folder: %w", err)
	}
	names := []string{file}
	if strings.Contains(file, "%batch_num%") {
		names = names[:0]
		for b := range max(batch, 1) {
			names = append(names, strings.ReplaceAll(file, "%batch_num%", strconv.Itoa(b)))
		}
	}
	for _, e := range entries {
		for _, name := range names {
			if d, ok := counterOf(e.Name(), name); ok && d+1 > p.counter {
				p.counter = d + 1
			}
		}
	}
	return p, nil
}

// counterOf reports whether entry is "<name>_..." (case-insensitive) and
// the number that follows, up to the next "_" (0 when not a number).
func counterOf(entry, name string) (int, bool) {
	if len(entry) <= len(name) || entry[len(name)] != '_' || !strings.EqualFold(entry[:len(name)], name) {
		return 0, false
	}
	rest := entry[len(name)+1:]
	if i := strings.IndexByte(rest, '_'); i >= 0 {
		rest = rest[:i]
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, true
		}
	}
	d, err := strconv.Atoi(rest)
	if err != nil {
		return 0, true
	}
	return d, true
}

// previewAlphabet is the alphabet ComfyUI's PreviewImage draws from
// (nodes.py: it lists "p" twice and has no "w").
const previewAlphabet = "abcdefghijklmnopqrstupvxyz"

// randomLetters returns n letters from previewAlphabet.
func randomLetters(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	max := big.NewInt(int64(len(previewAlphabet)))
	for i := range b {
		k, err := rand.Int(r, max)
		if err != nil {
			return "", fmt.Errorf("draw preview suffix: %w", err)
		}
		b[i] = previewAlphabet[k.Int64()]
	}
	return string(b), nil
}
