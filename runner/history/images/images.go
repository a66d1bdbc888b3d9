// Package images keeps the output PNGs of recorded runs, content-addressed
// (the SHA-256 of the file) and so deduplicated: an output identical at a
// hundred commits is one file. Prune applies the retention policy: it
// removes every image that the kept commits do not reference.
package images

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regen-dev/regen/internal/atomicfile"
)

// Store is a folder of images, <Dir>/<first two hex digits>/<sha256>.png.
type Store struct {
	Dir string
}

// Path is where the image with this hash lives.
func (s Store) Path(hash string) string {
	if len(hash) < 2 {
		return filepath.Join(s.Dir, hash+".png")
	}
	return filepath.Join(s.Dir, hash[:2], hash+".png")
}

// Put keeps data and returns its hash; an image already kept is not
// written again.
func (s Store) Put(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	p := s.Path(h)
	if _, err := os.Stat(p); err == nil {
		return h, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("keep image: %w", err)
	}
	if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("keep image: %w", err)
	}
	return h, nil
}

// Prune removes every kept image whose hash is not in keep; it returns the
// hashes removed, sorted.
func (s Store) Prune(keep map[string]bool) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == s.Dir {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".png") {
			return nil
		}
		h := strings.TrimSuffix(filepath.Base(p), ".png")
		if keep[h] {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		removed = append(removed, h)
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("prune images in %s: %w", s.Dir, err)
	}
	sort.Strings(removed)
	return removed, nil
}
