package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// OCI media types and annotations.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"

	// AnnotationRefName is the OCI annotation of an index entry's name.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName is the name containerd's importer uses first
	// (containerd's images.AnnotationImageName).
	AnnotationImageName = "io.containerd.image.name"
)

// Result describes a written archive.
type Result struct {
	Ref            string // the normalised reference the image is tagged with
	ManifestDigest string // sha256:..., the image's digest as containerd shows it
	ConfigDigest   string // the image ID
	LayerDigest    string // also the diff_id (the layer is uncompressed)
	LayerSize      int64
	Size           int64 // bytes of the archive
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type imageConfig struct {
	Created      string       `json:"created"`
	Architecture string       `json:"architecture"`
	OS           string       `json:"os"`
	Config       runtimeConf  `json:"config"`
	RootFS       rootFS       `json:"rootfs"`
	History      []historyRec `json:"history"`
}

type runtimeConf struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type historyRec struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

func set(keys []string) map[string]struct{} {
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return m
}

func digestOf(b []byte) blobInfo {
	sum := sha256.Sum256(b)
	return blobInfo{digest: "sha256:" + hex.EncodeToString(sum[:]), size: int64(len(b))}
}

// Write writes spec as an OCI image-layout tar archive to path, atomically
// (a temporary file in the same directory, renamed into place). File
// contents are streamed; the layer goes through a temporary file so that its
// digest is known before the archive is written.
func Write(path string, spec Spec) (Result, error) {
	ref, err := NormalizeRef(spec.Ref)
	if err != nil {
		return Result{}, err
	}
	entries, err := normalizeEntries(spec.Entries)
	if err != nil {
		return Result{}, err
	}
	arch, goos := spec.Architecture, spec.OS
	if arch == "" {
		arch = runtime.GOARCH
	}
	if goos == "" {
		goos = "linux"
	}
	mtime := spec.Created.UTC().Truncate(time.Second)
	if spec.Created.IsZero() {
		mtime = time.Unix(0, 0).UTC()
	}
	dir := filepath.Dir(path)

	layerFile, err := os.CreateTemp(dir, "."+filepath.Base(path)+".layer-*")
	if err != nil {
		return Result{}, fmt.Errorf("create layer file: %w", err)
	}
	defer func() {
		layerFile.Close()
		os.Remove(layerFile.Name())
	}()
	layer, err := writeLayer(layerFile, entries, mtime)
	if err != nil {
		return Result{}, err
	}

	created := mtime.Format(time.RFC3339)
	cfg := imageConfig{
		Created: created, Architecture: arch, OS: goos,
		Config: runtimeConf{
			User: spec.Config.User, ExposedPorts: set(spec.Config.ExposedPorts), Env: spec.Config.Env,
			Entrypoint: spec.Config.Entrypoint, Cmd: spec.Config.Cmd, Volumes: set(spec.Config.Volumes),
			WorkingDir: spec.Config.WorkingDir, Labels: spec.Config.Labels,
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{layer.digest}},
		History: []historyRec{{Created: created, CreatedBy: "regen ociimage: " + ref}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return Result{}, fmt.Errorf("encode image config: %w", err)
	}
	cfgInfo := digestOf(cfgJSON)
	manJSON, err := json.Marshal(manifest{
		SchemaVersion: 2, MediaType: MediaTypeManifest,
		Config: descriptor{MediaType: MediaTypeConfig, Digest: cfgInfo.digest, Size: cfgInfo.size},
		Layers: []descriptor{{MediaType: MediaTypeLayer, Digest: layer.digest, Size: layer.size}},
	})
	if err != nil {
		return Result{}, fmt.Errorf("encode manifest: %w", err)
	}
	manInfo := digestOf(manJSON)
	idxJSON, err := json.Marshal(index{
		SchemaVersion: 2, MediaType: MediaTypeIndex,
		Manifests: []descriptor{{
			MediaType: MediaTypeManifest, Digest: manInfo.digest, Size: manInfo.size,
			Annotations: map[string]string{AnnotationRefName: ref, AnnotationImageName: ref},
			Platform:    &platform{Architecture: arch, OS: goos},
		}},
	})
	if err != nil {
		return Result{}, fmt.Errorf("encode index: %w", err)
	}

	res := Result{Ref: ref, ManifestDigest: manInfo.digest, ConfigDigest: cfgInfo.digest,
		LayerDigest: layer.digest, LayerSize: layer.size}
	res.Size, err = writeArchive(path, mtime, []archiveFile{
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", data: idxJSON},
		{name: blobName(cfgInfo.digest), data: cfgJSON},
		{name: blobName(manInfo.digest), data: manJSON},
		{name: blobName(layer.digest), file: layerFile, size: layer.size},
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func blobName(digest string) string {
	return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
}

// archiveFile is one file of the outer archive: data, or size bytes of file
// from its start.
type archiveFile struct {
	name string
	data []byte
	file *os.File
	size int64
}

// writeArchive writes the outer tar atomically and returns its size.
func writeArchive(path string, mtime time.Time, files []archiveFile) (int64, error) {
	// Blobs sorted by name after the two metadata files; the directories
	// before their contents.
	sort.SliceStable(files[2:], func(i, j int) bool { return files[2+i].name < files[2+j].name })
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("create archive: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	hw := newHashWriter(tmp)
	tw := tar.NewWriter(hw)
	hdr := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: mtime, Format: tar.FormatPAX}
	}
	dirsDone := false
	for _, f := range files {
		if strings.HasPrefix(f.name, "blobs/") && !dirsDone {
			for _, d := range []string{"blobs/", "blobs/sha256/"} {
				if err := tw.WriteHeader(hdr(d, tar.TypeDir, 0o755, 0)); err != nil {
					return 0, fmt.Errorf("write archive: %w", err)
				}
			}
			dirsDone = true
		}
		var src io.Reader
		size := int64(len(f.data))
		if f.file != nil {
			if _, err := f.file.Seek(0, io.SeekStart); err != nil {
				return 0, fmt.Errorf("rewind layer: %w", err)
			}
			src, size = io.LimitReader(f.file, f.size), f.size
		} else {
			src = bytes.NewReader(f.data)
		}
		if err := tw.WriteHeader(hdr(f.name, tar.TypeReg, 0o644, size)); err != nil {
			return 0, fmt.Errorf("write archive: %w", err)
		}
		n, err := io.Copy(tw, src)
		if err != nil {
			return 0, fmt.Errorf("write archive entry %s: %w", f.name, err)
		}
		if n != size {
			return 0, fmt.Errorf("write archive entry %s: wrote %d of %d bytes", f.name, n, size)
		}
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("write archive: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return 0, fmt.Errorf("write archive: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("write archive: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("write archive: %w", err)
	}
	return hw.size, nil
}
