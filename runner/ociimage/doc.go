// Package ociimage writes container images as OCI image-layout tar archives
// (oci-layout, index.json, blobs/sha256/...) without Docker or a registry, for
// `ctr -n k8s.io images import` and `kind load image-archive`.
//
// An image is one uncompressed layer built from a list of entries (directories
// and regular files with explicit mode and owner), a config and a reference.
// The archive is bit-reproducible: the same Spec and the same file contents
// give the same bytes (sorted entries, fixed mtimes, numeric owners only).
//
// Executor and Pause return the Specs of regen's two images: the FROM-scratch
// executor image of the Dockerfile's executor stage, and the pod sandbox
// (pause) image of the local cluster.
package ociimage
