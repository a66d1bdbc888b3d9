package ociimage

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"
)

// Spec describes one single-layer image.
type Spec struct {
	// Ref is the image reference; Write normalises it (NormalizeRef).
	Ref string
	// Architecture and OS of the image (default runtime.GOARCH, linux).
	Architecture, OS string
	// Created is the mtime of every layer entry and the config's created
	// time; the zero value means the Unix epoch, for reproducible archives.
	Created time.Time
	Config  Config
	// Entries are the layer's contents. Missing parent directories are
	// added as 0755 root:root; order does not matter (Write sorts).
	Entries []Entry
}

// Config is the image's runtime configuration (the OCI config's "config").
type Config struct {
	User         string
	Env          []string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	ExposedPorts []string // "8188/tcp"
	Volumes      []string // "/input"
	Labels       map[string]string
}

// EntryType is the kind of a layer entry.
type EntryType int

// The layer entry kinds.
const (
	Dir EntryType = iota
	File
)

// Entry is one directory or regular file of the layer.
type Entry struct {
	// Path is the absolute path in the image, e.g. /models/x.safetensors.
	Path string
	Type EntryType
	// Mode holds the permission bits and optionally fs.ModeSticky,
	// fs.ModeSetuid, fs.ModeSetgid.
	Mode     fs.FileMode
	UID, GID int
	// Source is the host file a File is streamed from; if empty, Data is
	// the file's content.
	Source string
	Data   []byte
}

// DefaultPath is the PATH Docker puts in every image's config.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// The references the images get unless told otherwise: the dev overlay's
// executor image and the pod sandbox image a host node runs.
const (
	DefaultExecutorRef = "regen-executor:dev"
	DefaultPauseRef    = "regen-pause:3.10"
)

// BesideExecutable returns the path of the program name next to the running
// one (bin/regen finds bin/regen-executor and bin/regen-pause).
func BesideExecutable(name string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the running program: %w", err)
	}
	return filepath.Join(filepath.Dir(self), name), nil
}

// NonRoot is the numeric user the executor image runs as (the Dockerfile's
// USER 65532:65532).
const NonRoot = 65532

// ExecutorOptions are the inputs of the executor image.
type ExecutorOptions struct {
	Binary string // a static regen-executor (CGO_ENABLED=0)
	Models string // the models directory copied to /models (fixtures/models)
	Ref    string // default regen-executor:dev
	Labels map[string]string
}

// Executor returns the Spec of the Dockerfile's executor stage: FROM scratch,
// /regen-executor, the models under /models, the writable mount points owned
// by 65532 (as the build stage's chown -R, which also covers /var and
// /var/lib), /tmp 1777, USER 65532:65532, the same EXPOSE, VOLUME, ENTRYPOINT
// and CMD.
func Executor(o ExecutorOptions) (Spec, error) {
	if err := CheckStatic(o.Binary); err != nil {
		return Spec{}, err
	}
	if o.Ref == "" {
		o.Ref = DefaultExecutorRef
	}
	models, err := dirEntries(o.Models, "/models")
	if err != nil {
		return Spec{}, err
	}
	s := Spec{
		Ref: o.Ref,
		Config: Config{
			User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
			Env:        []string{DefaultPath},
			Entrypoint: []string{"/regen-executor"},
			Cmd: []string{"--listen=0.0.0.0:8188", "--metrics-listen=0.0.0.0:9090",
				"--models=/models", "--input=/input", "--output=/output", "--temp=/temp"},
			ExposedPorts: []string{"8188/tcp", "9090/tcp"},
			Volumes:      []string{"/input", "/output", "/temp", "/tmp"},
			Labels:       o.Labels,
		},
	}
	for _, d := range []string{"/input", "/output", "/temp", "/var", "/var/lib", "/var/lib/regen"} {
		s.Entries = append(s.Entries, Entry{Path: d, Type: Dir, Mode: 0o755, UID: NonRoot, GID: NonRoot})
	}
	s.Entries = append(s.Entries,
		Entry{Path: "/tmp", Type: Dir, Mode: 0o777 | fs.ModeSticky, UID: NonRoot, GID: NonRoot},
		Entry{Path: "/regen-executor", Type: File, Mode: 0o755, Source: o.Binary},
	)
	s.Entries = append(s.Entries, models...)
	return s, nil
}

// PauseUser is the pause image's user, as the upstream pause image's.
const PauseUser = 65535

// Pause returns the Spec of the pod sandbox image: the static binary as
// /pause, run as 65535:65535 like the upstream pause image.
func Pause(binary, ref string) (Spec, error) {
	if err := CheckStatic(binary); err != nil {
		return Spec{}, err
	}
	if ref == "" {
		ref = DefaultPauseRef
	}
	return Spec{
		Ref: ref,
		Config: Config{
			User:       fmt.Sprintf("%d:%d", PauseUser, PauseUser),
			Env:        []string{DefaultPath},
			Entrypoint: []string{"/pause"},
		},
		Entries: []Entry{{Path: "/pause", Type: File, Mode: 0o755, Source: binary}},
	}, nil
}

// dirEntries lists dir recursively as entries under prefix: directories 0755,
// files 0644, all root-owned, in lexical order. Symlinks and other special
// files are refused.
func dirEntries(dir, prefix string) ([]Entry, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("read models directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("read models directory: %s is not a directory", dir)
	}
	var out []Entry
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		target := path.Join(prefix, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			out = append(out, Entry{Path: target, Type: Dir, Mode: 0o755})
		case d.Type().IsRegular():
			out = append(out, Entry{Path: target, Type: File, Mode: 0o644, Source: p})
		default:
			return fmt.Errorf("%s: not a regular file or directory (%v)", p, d.Type())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk models directory: %w", err)
	}
	return out, nil
}

// ErrNotStatic is returned (wrapped) by CheckStatic for a dynamically linked
// binary.
var ErrNotStatic = errors.New("binary is dynamically linked")

// elfMachines maps GOARCH to the ELF machine a binary for it carries.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
}

// CheckStatic returns nil if binary is a statically linked ELF executable for
// runtime.GOARCH, the only kind a FROM-scratch image can run: no PT_INTERP
// program header (no dynamic loader to find in the image).
func CheckStatic(binary string) error {
	if binary == "" {
		return errors.New("check binary: no path given")
	}
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("check binary %s: not a readable ELF executable (an image for linux needs a linux binary): %w", binary, err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("check binary %s: built for %v, want %v (GOARCH=%s)", binary, f.Machine, want, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("check binary %s: %w (it needs a dynamic loader a FROM-scratch image does not have); build it with CGO_ENABLED=0 (hack/build.sh does)", binary, ErrNotStatic)
		}
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("check binary %s: ELF type %v is not an executable", binary, f.Type)
	}
	return nil
}
