//go:build !regenfast

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/regen-dev/regen/runner/ociimage"
)

const imageUsage = `Usage: regen image executor [--binary PATH] [--models DIR] [--ref REF] -o FILE
       regen image pause    [--binary PATH] [--ref REF] -o FILE

Write a container image as an OCI image-layout tar archive, without Docker
or a registry (one uncompressed layer, bit-reproducible: the same binaries
and models give the same bytes; SOURCE_DATE_EPOCH sets the timestamps, else
the Unix epoch):

  executor  the Dockerfile's executor stage: FROM scratch, /regen-executor,
            the models under /models, writable /input /output /temp
            /var/lib/regen and /tmp, user 65532:65532.
  pause     the pod sandbox image: /pause (cmd/regen-pause), user 65535.

The binaries must be static (CGO_ENABLED=0; hack/build.sh builds them so).
Load an archive into a node's containerd, or a kind cluster:

  ctr -n k8s.io images import FILE
  kind load image-archive FILE
`

func imageCommand() command {
	return command{summary: "write the executor or pause image as an OCI archive (no Docker)", run: runImage}
}

type imageFlags struct {
	binary, models, ref, out string
}

func runImage(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.Err, imageUsage)
		return &usageError{msg: "image needs a kind: executor or pause", hint: "regen image executor -o bin/images/regen-executor-dev.oci.tar"}
	}
	kind := args[0]
	var defBinary, defRef string
	switch kind {
	case "-h", "--help", "help":
		fmt.Fprint(s.Out, imageUsage+examplesSection("image")+"\nFlags: regen image KIND -h\n")
		return nil
	case "executor":
		defBinary, defRef = "regen-executor", ociimage.DefaultExecutorRef
	case "pause":
		defBinary, defRef = "regen-pause", ociimage.DefaultPauseRef
	default:
		return &usageError{msg: fmt.Sprintf("unknown image %q (want executor or pause)", kind), hint: "regen image -h"}
	}
	var f imageFlags
	fs := newFlagSet("image "+kind, s)
	fs.StringVar(&f.binary, "binary", "", "static "+defBinary+" binary (default: "+defBinary+" next to the running regen)")
	if kind == "executor" {
		fs.StringVar(&f.models, "models", "fixtures/models", "models directory, copied to /models")
	}
	fs.StringVar(&f.ref, "ref", defRef, "image reference (short names get docker.io/library/)")
	fs.StringVar(&f.out, "o", "", "archive to write (required)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), imageUsage+"\nFlags:\n"); fs.PrintDefaults() }
	if err := parseFlags(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), hint: "regen image " + kind + " -h"}
	}
	hint := "regen image " + kind + " -o bin/images/" + defBinary + ".oci.tar"
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("image %s: unexpected argument %q", kind, fs.Arg(0)), hint: hint}
	}
	if f.out == "" {
		return &usageError{msg: "image " + kind + " needs -o FILE", hint: hint}
	}
	if _, err := ociimage.NormalizeRef(f.ref); err != nil {
		return &usageError{msg: err.Error(), hint: "--ref " + defRef}
	}
	if f.binary == "" {
		var err error
		if f.binary, err = ociimage.BesideExecutable(defBinary); err != nil {
			return fmt.Errorf("%w (pass --binary)", err)
		}
	}
	if _, err := os.Stat(f.binary); err != nil {
		return &usageError{msg: fmt.Sprintf("image %s: binary %s: %v", kind, f.binary, errors.Unwrap(err)), hint: "make build (builds bin/" + defBinary + "), or pass --binary"}
	}
	created, err := sourceDateEpoch()
	if err != nil {
		return &usageError{msg: err.Error(), hint: "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)"}
	}
	var spec ociimage.Spec
	if kind == "executor" {
		spec, err = ociimage.Executor(ociimage.ExecutorOptions{Binary: f.binary, Models: f.models, Ref: f.ref})
	} else {
		spec, err = ociimage.Pause(f.binary, f.ref)
	}
	if err != nil {
		return &usageError{msg: "image " + kind + ": " + err.Error(), hint: "make build"}
	}
	spec.Created = created
	if err := os.MkdirAll(filepath.Dir(f.out), 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	res, err := ociimage.Write(f.out, spec)
	if err != nil {
		return fmt.Errorf("write image %s: %w", f.out, err)
	}
	fmt.Fprintf(s.Out, "%s %s %d bytes -> %s\n", res.Ref, res.ManifestDigest, res.Size, f.out)
	return nil
}

// sourceDateEpoch returns $SOURCE_DATE_EPOCH as a time, or the zero time
// (the Unix epoch in the archive) when unset.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a non-negative number of seconds", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
