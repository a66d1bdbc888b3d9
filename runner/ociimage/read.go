package ociimage

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// ArchiveRefs returns the normalised references an OCI image-layout archive
// names in its index.json (containerd's io.containerd.image.name, else the
// OCI ref.name annotation), sorted: what `ctr images import` of the archive
// makes available. Archives written by Write and by hack/comfyui-image.sh
// both name their image this way; an archive that names none is an error.
func ArchiveRefs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read image archive: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read image archive %s: no index.json (not an OCI image layout)", path)
		}
		if err != nil {
			return nil, fmt.Errorf("read image archive %s: %w", path, err)
		}
		if hdr.Name != "index.json" && hdr.Name != "./index.json" {
			continue
		}
		var idx index
		if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&idx); err != nil {
			return nil, fmt.Errorf("read image archive %s: index.json: %w", path, err)
		}
		var refs []string
		for _, m := range idx.Manifests {
			name := m.Annotations[AnnotationImageName]
			if name == "" {
				name = m.Annotations[AnnotationRefName]
			}
			if name == "" {
				continue
			}
			ref, err := NormalizeRef(name)
			if err != nil {
				return nil, fmt.Errorf("read image archive %s: %w", path, err)
			}
			refs = append(refs, ref)
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("read image archive %s: index.json names no image (no %s annotation)", path, AnnotationImageName)
		}
		slices.Sort(refs)
		return slices.Compact(refs), nil
	}
}
