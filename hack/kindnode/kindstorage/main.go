// Command kindstorage prints kind's default storage manifest: the
// local-path-provisioner Deployment, its RBAC and ConfigMap, and the default
// `standard` StorageClass that `kind build node-image` writes to
// /kind/manifests/default-storage.yaml and `kind create cluster` applies.
// hack/kindnode.sh does kind's build steps by hand (kind's own command fetches
// content and cannot run offline), so it writes the file itself, with this
// command's output.
//
// The manifest is read from the kind module's own source
// (pkg/build/nodeimage/const_storage.go), its constants evaluated with go/types
// rather than copied, so the node image carries exactly what kind v0.33.0
// would install. One thing is adapted: kind's two images (its
// local-path-provisioner build and its helper image, both pulled from a
// registry) are replaced by the references given, the images hack/kindnode.sh
// builds offline and imports into the node's containerd.
//
// Usage:
//
//	go run ./hack/kindnode/kindstorage -kind "$(go env GOMODCACHE)/sigs.k8s.io/kind@v0.33.0" \
//	    -provisioner-image REF -helper-image REF
package main

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
)

// constStorage is the file of the kind module that holds the manifest.
const constStorage = "pkg/build/nodeimage/const_storage.go"

// The constants of that file this command reads.
const (
	manifestConst    = "defaultStorageManifest"
	provisionerConst = "storageProvisionerImage"
	helperConst      = "storageHelperImage"
)

func main() {
	kindDir := flag.String("kind", "", "the sigs.k8s.io/kind module `directory` (in GOMODCACHE)")
	prov := flag.String("provisioner-image", "", "the local-path-provisioner image `reference` to use in place of kind's")
	helper := flag.String("helper-image", "", "the helper image `reference` (sh, mkdir, rm) to use in place of kind's")
	flag.Parse()
	if *kindDir == "" || *prov == "" || *helper == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: kindstorage -kind DIR -provisioner-image REF -helper-image REF")
		os.Exit(2)
	}
	src, err := os.ReadFile(filepath.Join(*kindDir, constStorage))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kindstorage:", err)
		os.Exit(1)
	}
	m, err := manifest(src, *prov, *helper)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kindstorage:", err)
		os.Exit(1)
	}
	fmt.Print(m)
}

// manifest evaluates kind's storage constants in src and returns the manifest
// with kind's provisioner and helper images replaced by prov and helper.
func manifest(src []byte, prov, helper string) (string, error) {
	consts, err := stringConsts(src, manifestConst, provisionerConst, helperConst)
	if err != nil {
		return "", err
	}
	m := consts[manifestConst]
	// What the rest of the image build relies on: the default class is
	// kind's `standard`, backed by the local-path provisioner.
	for _, want := range []string{"name: standard", "provisioner: rancher.io/local-path", `storageclass.kubernetes.io/is-default-class: "true"`} {
		if !strings.Contains(m, want) {
			return "", fmt.Errorf("read %s: the manifest has no %q: kind changed its storage manifest", manifestConst, want)
		}
	}
	for _, r := range []struct{ name, from, to string }{
		{provisionerConst, consts[provisionerConst], prov},
		{helperConst, consts[helperConst], helper},
	} {
		if !strings.Contains(m, r.from) {
			return "", fmt.Errorf("replace %s: %s does not name %s", r.name, manifestConst, r.from)
		}
		m = strings.ReplaceAll(m, r.from, r.to)
	}
	return m, nil
}

// stringConsts type-checks src (one Go file without imports) and returns the
// values of the named string constants.
func stringConsts(src []byte, names ...string) (map[string]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, constStorage, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", constStorage, err)
	}
	if len(f.Imports) != 0 {
		return nil, fmt.Errorf("check %s: it imports packages now; this command evaluates a file without imports", constStorage)
	}
	pkg, err := new(types.Config).Check(f.Name.Name, fset, []*ast.File{f}, nil)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", constStorage, err)
	}
	out := make(map[string]string, len(names))
	var errs []error
	for _, n := range names {
		c, ok := pkg.Scope().Lookup(n).(*types.Const)
		if !ok || c.Val().Kind() != constant.String {
			errs = append(errs, fmt.Errorf("read %s: no string constant %s", constStorage, n))
			continue
		}
		out[n] = constant.StringVal(c.Val())
	}
	return out, errors.Join(errs...)
}
