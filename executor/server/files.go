package server

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/engine"
	"github.com/regen-dev/regen/internal/atomicfile"
)

// defaultModelFolders are always reported by /models.
var defaultModelFolders = []string{"checkpoints", "loras", "vae", "controlnet"}

// dirByType maps a ComfyUI folder type to its directory.
func (s *Server) dirByType(typ string) (string, bool) {
	switch typ {
	case "output":
		return s.dirs.Output, s.dirs.Output != ""
	case "input":
		return s.dirs.Input, s.dirs.Input != ""
	case "temp":
		return s.dirs.Temp, s.dirs.Temp != ""
	}
	return "", false
}

func (s *Server) modelFolder(name string) string {
	if s.dirs.Models == "" {
		return ""
	}
	return filepath.Join(s.dirs.Models, name)
}

func (s *Server) getModels(w http.ResponseWriter, _ *http.Request) {
	names := map[string]bool{}
	for _, n := range defaultModelFolders {
		names[n] = true
	}
	if s.dirs.Models != "" {
		if ents, err := os.ReadDir(s.dirs.Models); err == nil {
			for _, e := range ents {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					names[e.Name()] = true
				}
			}
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	writeJSONResp(w, http.StatusOK, out)
}

func (s *Server) getModelFolder(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("folder")
	if !engine.ValidFolderName(name) {
		http.NotFound(w, r)
		return
	}
	dir := s.modelFolder(name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		isDefault := false
		for _, n := range defaultModelFolders {
			isDefault = isDefault || n == name
		}
		if !isDefault {
			http.NotFound(w, r)
			return
		}
	}
	writeJSONResp(w, http.StatusOK, engine.ListModels(dir))
}

// annotated splits "name [output]" into the name and its folder type.
func annotated(name string) (string, string) {
	for _, t := range []string{"output", "input", "temp"} {
		if suffix := " [" + t + "]"; strings.HasSuffix(name, suffix) {
			return strings.TrimSuffix(name, suffix), t
		}
	}
	return name, ""
}

// insideBase joins base and rel and reports whether the result stays
// inside base.
func insideBase(base, rel string) (string, bool) {
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, `\`) {
		return "", false
	}
	full := filepath.Join(base, filepath.FromSlash(rel))
	r, err := filepath.Rel(base, full)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return full, true
}

// getView serves GET /view with ComfyUI's checks: 400 for an absolute name
// or one containing "..", 403 for a subfolder escaping the base folder, 404
// for a missing file. Files are opened through an os.Root so that symlinks
// cannot escape either.
func (s *Server) getView(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("filename") {
		http.NotFound(w, r)
		return
	}
	name, typ := annotated(q.Get("filename"))
	if name == "" || name[0] == '/' || name[0] == '\\' || strings.Contains(name, "..") || filepath.IsAbs(name) {
		http.Error(w, "invalid filename", http.StatusBadRequest)
		return
	}
	if typ == "" {
		typ = q.Get("type")
		if typ == "" {
			typ = "output"
		}
	}
	base, ok := s.dirByType(typ)
	if !ok {
		http.Error(w, "invalid type", http.StatusBadRequest)
		return
	}
	rel := path.Base(filepath.ToSlash(name))
	if sub := q.Get("subfolder"); sub != "" {
		if _, ok := insideBase(base, sub); !ok {
			http.Error(w, "subfolder escapes the base folder", http.StatusForbidden)
			return
		}
		rel = path.Join(filepath.ToSlash(sub), rel)
	}
	root, err := os.OpenRoot(base)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "file outside the base folder", http.StatusForbidden)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	filename := path.Base(rel)
	w.Header().Set("Content-Disposition", fmt.Sprintf("filename=%q", filename))
	if pv := rawQueryValue(r.URL.RawQuery, "preview"); pv != "" {
		s.servePreview(w, f, pv)
		return
	}
	switch ch := q.Get("channel"); ch {
	case "", "rgba":
	case "rgb", "a":
		img, _, err := image.Decode(f)
		if err != nil {
			http.Error(w, "decode image: "+err.Error(), http.StatusBadRequest)
			return
		}
		var buf bytes.Buffer
		encode := png.Encode
		if ch == "a" {
			// ComfyUI sends the mask as an RGBA PNG even when the file has
			// no alpha (then 255 everywhere); png.Encode would write an
			// opaque image as RGB.
			encode = func(w io.Writer, m image.Image) error { return encodeNRGBA(w, m.(*image.NRGBA)) }
		}
		if err := encode(&buf, channelImage(img, ch)); err != nil {
			http.Error(w, "encode image: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
		return
	default:
		http.Error(w, "invalid channel", http.StatusBadRequest)
		return
	}
	ctype := mime.TypeByExtension(strings.ToLower(filepath.Ext(filename)))
	if ctype == "" || strings.Contains(ctype, "html") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "css") {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// rawQueryValue returns a query parameter whose value may hold an
// unescaped ';' (ComfyUI clients send preview=webp;90), which
// url.ParseQuery refuses.
func rawQueryValue(raw, key string) string {
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != key {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return v
	}
	return ""
}

// servePreview re-encodes an image for ?preview=format;quality. We have a
// JPEG encoder but no WebP one, so every preview is a JPEG (the
// Content-Type says so); ComfyUI would send WebP when asked.
func (s *Server) servePreview(w http.ResponseWriter, f io.Reader, preview string) {
	quality := 90
	if _, q, ok := strings.Cut(preview, ";"); ok {
		if n, err := strconv.Atoi(q); err == nil && n >= 1 && n <= 100 {
			quality = n
		}
	}
	img, _, err := image.Decode(f)
	if err != nil {
		http.Error(w, "decode image: "+err.Error(), http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, channelImage(img, "rgb"), &jpeg.Options{Quality: quality}); err != nil {
		http.Error(w, "encode preview: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(buf.Bytes())
}

// channelImage returns the RGB part (alpha dropped) or the alpha as an RGBA
// image with black colour, as ComfyUI's /view channel=rgb|a.
func channelImage(img image.Image, ch string) image.Image {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if ch == "rgb" {
				c.A = 255
			} else {
				c = color.NRGBA{A: c.A}
			}
			out.SetNRGBA(x-b.Min.X, y-b.Min.Y, c)
		}
	}
	return out
}

// sentFilename is the filename parameter of a part's Content-Disposition as
// the client sent it, path and all ("" if it cannot be parsed).
func sentFilename(h *multipart.FileHeader) string {
	_, params, err := mime.ParseMediaType(h.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// encodeNRGBA writes m as an 8-bit RGBA PNG (colour type 6) whether or not
// it is opaque: one IDAT of unfiltered rows, default compression.
func encodeNRGBA(w io.Writer, m *image.NRGBA) error {
	b := m.Bounds()
	var raw bytes.Buffer
	zw := zlib.NewWriter(&raw)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
		if _, err := zw.Write(append([]byte{0}, row...)); err != nil {
			return fmt.Errorf("compress image: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress image: %w", err)
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(b.Dx()))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(b.Dy()))
	ihdr[8], ihdr[9] = 8, 6 // 8 bits per sample, RGBA
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	for _, c := range []struct {
		typ  string
		data []byte
	}{{"IHDR", ihdr}, {"IDAT", raw.Bytes()}, {"IEND", nil}} {
		var hdr [8]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(c.data)))
		copy(hdr[4:], c.typ)
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:])
		crc.Write(c.data)
		out.Write(hdr[:])
		out.Write(c.data)
		out.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	}
	_, err := w.Write(out.Bytes())
	return err
}

// postUploadImage serves POST /upload/image.
func (s *Server) postUploadImage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUploadSize)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("upload larger than %d bytes", s.opts.MaxUploadSize), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "parse multipart form: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, header, err := r.FormFile("image")
	if err != nil {
		http.Error(w, "missing image", http.StatusBadRequest)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		http.Error(w, "read image: "+err.Error(), http.StatusBadRequest)
		return
	}
	typ := r.FormValue("type")
	if typ == "" {
		typ = "input"
	}
	base, ok := s.dirByType(typ)
	if !ok {
		http.Error(w, "invalid type", http.StatusBadRequest)
		return
	}
	// header.Filename is already reduced to its base name by mime/multipart;
	// ComfyUI answers 400 for a name that leaves the folder ("../x.png"),
	// so the name as sent is checked.
	filename := header.Filename
	if filename == "" || !engine.ValidFolderName(filename) || !engine.ValidFolderName(sentFilename(header)) {
		http.Error(w, "invalid filename", http.StatusBadRequest)
		return
	}
	subfolder := r.FormValue("subfolder")
	dir, ok := insideBase(base, subfolder)
	if !ok {
		http.Error(w, "subfolder escapes the base folder", http.StatusBadRequest)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		http.Error(w, "create folder: "+err.Error(), http.StatusInternalServerError)
		return
	}
	overwrite := r.FormValue("overwrite")
	target := filepath.Join(dir, filename)
	duplicate := false
	if overwrite != "true" && overwrite != "1" {
		ext := filepath.Ext(filename)
		stem := strings.TrimSuffix(filename, ext)
		sum := sha256.Sum256(data)
		for i := 1; ; i++ {
			existing, err := os.ReadFile(target)
			if err != nil {
				break
			}
			if sha256.Sum256(existing) == sum {
				duplicate = true
				break
			}
			filename = fmt.Sprintf("%s (%d)%s", stem, i, ext)
			target = filepath.Join(dir, filename)
		}
	}
	if !duplicate {
		if err := atomicfile.WriteFile(target, data, 0o600); err != nil {
			http.Error(w, "save upload: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	s.log.Info("uploaded", "name", filename, "subfolder", subfolder, "type", typ, "bytes", len(data), "duplicate", duplicate)
	writeJSONResp(w, http.StatusOK, ordered{{"name", filename}, {"subfolder", subfolder}, {"type", typ}})
}

// maxSafetensorsHeader bounds the header /view_metadata reads (as
// ComfyUI's max_size=1 MiB).
const maxSafetensorsHeader = 1 << 20

// safetensorsMetadata reads the __metadata__ object of a safetensors file:
// an 8-byte little-endian header length, then that many bytes of JSON.
func safetensorsMetadata(r io.Reader) (json.RawMessage, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n == 0 || n > maxSafetensorsHeader {
		return nil, fmt.Errorf("read header: length %d out of range", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &top); err != nil {
		return nil, fmt.Errorf("parse header: %w", err)
	}
	md, ok := top["__metadata__"]
	if !ok {
		return nil, errors.New("parse header: no __metadata__")
	}
	return md, nil
}

func (s *Server) getViewMetadata(w http.ResponseWriter, r *http.Request) {
	folder := r.PathValue("folder")
	name := r.URL.Query().Get("filename")
	if !engine.ValidFolderName(folder) || name == "" || !strings.HasSuffix(name, ".safetensors") || s.dirs.Models == "" {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(s.modelFolder(folder))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	md, err := safetensorsMetadata(f)
	if err != nil {
		s.log.Debug("view_metadata", "file", name, "err", err)
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(md)
}
