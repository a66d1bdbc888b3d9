package ociimage

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// normalizeEntries cleans and checks the paths, adds missing parent
// directories (0755 root:root) and sorts by path, so that every parent
// precedes its children.
func normalizeEntries(in []Entry) ([]Entry, error) {
	byPath := make(map[string]Entry, len(in))
	for _, e := range in {
		if !strings.HasPrefix(e.Path, "/") {
			return nil, fmt.Errorf("layer entry %q: path must be absolute", e.Path)
		}
		p := path.Clean(e.Path)
		if p == "/" {
			return nil, fmt.Errorf("layer entry %q: the root directory cannot be an entry", e.Path)
		}
		if e.Type != Dir && e.Type != File {
			return nil, fmt.Errorf("layer entry %s: unknown type %d", p, e.Type)
		}
		if e.Mode&^(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid) != 0 {
			return nil, fmt.Errorf("layer entry %s: mode %v has bits other than permissions, sticky, setuid, setgid", p, e.Mode)
		}
		if e.UID < 0 || e.GID < 0 {
			return nil, fmt.Errorf("layer entry %s: negative owner %d:%d", p, e.UID, e.GID)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("layer entry %s: listed twice", p)
		}
		e.Path = p
		byPath[p] = e
	}
	// Add the missing parents; a parent listed as a file is an error.
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			parent, ok := byPath[dir]
			if !ok {
				byPath[dir] = Entry{Path: dir, Type: Dir, Mode: 0o755}
				continue
			}
			if parent.Type != Dir {
				return nil, fmt.Errorf("layer entry %s: parent %s is a file", p, dir)
			}
		}
	}
	out := make([]Entry, 0, len(byPath))
	for _, e := range byPath {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// tarMode returns the tar header mode of an fs.FileMode (permission bits plus
// the sticky, setuid and setgid bits in their Unix positions).
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// blobInfo is a written blob's digest ("sha256:<hex>") and size.
type blobInfo struct {
	digest string
	size   int64
}

// hashWriter counts and hashes what passes through it to w.
type hashWriter struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, h: sha256.New()} }

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.size += int64(n)
	return n, err
}

func (hw *hashWriter) info() blobInfo {
	return blobInfo{digest: "sha256:" + hex.EncodeToString(hw.h.Sum(nil)), size: hw.size}
}

// writeLayer writes the uncompressed layer tar of entries to w, streaming
// file contents, and returns its digest and size (the digest is also the
// layer's diff_id, since the layer is not compressed).
func writeLayer(w io.Writer, entries []Entry, mtime time.Time) (blobInfo, error) {
	hw := newHashWriter(w)
	tw := tar.NewWriter(hw)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    strings.TrimPrefix(e.Path, "/"),
			Mode:    tarMode(e.Mode),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if e.Type == Dir {
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			if err := tw.WriteHeader(hdr); err != nil {
				return blobInfo{}, fmt.Errorf("write layer entry %s: %w", e.Path, err)
			}
			continue
		}
		hdr.Typeflag = tar.TypeReg
		if err := writeFile(tw, hdr, e); err != nil {
			return blobInfo{}, fmt.Errorf("write layer entry %s: %w", e.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return blobInfo{}, fmt.Errorf("close layer: %w", err)
	}
	return hw.info(), nil
}

// writeFile writes one regular file, from e.Data or streamed from e.Source.
func writeFile(tw *tar.Writer, hdr *tar.Header, e Entry) error {
	if e.Source == "" {
		hdr.Size = int64(len(e.Data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(e.Data)
		return err
	}
	f, err := os.Open(e.Source)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("source %s is not a regular file", e.Source)
	}
	hdr.Size = info.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, f)
	if err != nil {
		return fmt.Errorf("copy %s: %w (was it changed while the image was written?)", e.Source, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("copy %s: read %d bytes, its size was %d (changed while the image was written)", e.Source, n, hdr.Size)
	}
	return nil
}
