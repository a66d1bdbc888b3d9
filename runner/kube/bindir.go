package kube

import (
	"os"
	"path/filepath"
)

// Versions of the control plane hack/controlplane.sh builds; the cache key
// (and so DefaultBinDir) is made of them. TestScriptVersions keeps the two in step.
const (
	KubeVersion = "v1.37.2"
	EtcdVersion = "v3.6.16"
	KwokVersion = "v0.8.0"
)

// DefaultBinDir is where hack/controlplane.sh puts the binaries:
// $REGEN_KUBE_BIN if set, else ${REGEN_CACHE:-~/.cache/regen}/kube-…/bin.
func DefaultBinDir() string {
	if d := os.Getenv("REGEN_KUBE_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("REGEN_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "regen")
	}
	return filepath.Join(cache, "kube-"+KubeVersion+"-etcd-"+EtcdVersion+"-kwok-"+KwokVersion, "bin")
}
