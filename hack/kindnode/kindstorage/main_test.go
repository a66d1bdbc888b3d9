package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// src builds a const_storage.go-like file: the images as constants, the
// manifest concatenated from them the way kind's is.
func src(manifest string) string {
	return "package nodeimage\n\n" +
		"const storageProvisionerImage = \"docker.io/kindest/local-path-provisioner:v1\"\n" +
		"const storageHelperImage = \"docker.io/kindest/local-path-helper:v2\"\n" +
		"var defaultStorageImages = []string{storageProvisionerImage, storageHelperImage}\n" +
		"const defaultStorageManifest = `" + manifest + "`\n"
}

const okManifest = "kind: Deployment\n" +
	"image: ` + storageProvisionerImage + `\n" +
	"- --helper-image\n- ` + storageHelperImage + `\n" +
	"---\nkind: StorageClass\nmetadata:\n  name: standard\n  annotations:\n    storageclass.kubernetes.io/is-default-class: \"true\"\nprovisioner: rancher.io/local-path\n" +
	"---\nhelperPod.yaml: |-\n  image: ` + storageHelperImage + `\n"

func TestManifest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		src     string
		want    []string // substrings of the output
		wantErr string
	}{
		{
			name: "images replaced everywhere",
			src:  src(okManifest),
			want: []string{"image: regen.local/lpp:v0\n", "- regen.local/helper:r1\n", "  image: regen.local/helper:r1\n", "provisioner: rancher.io/local-path"},
		},
		{
			name:    "no standard class",
			src:     src(strings.Replace(okManifest, "name: standard", "name: other", 1)),
			wantErr: `no "name: standard"`,
		},
		{
			name:    "another provisioner",
			src:     src(strings.Replace(okManifest, "rancher.io/local-path", "example.com/p", 1)),
			wantErr: `no "provisioner: rancher.io/local-path"`,
		},
		{
			name:    "helper image not used",
			src:     src(strings.ReplaceAll(okManifest, "` + storageHelperImage + `", "busybox")),
			wantErr: "replace storageHelperImage",
		},
		{
			name:    "constant renamed",
			src:     strings.Replace(src(okManifest), "const defaultStorageManifest", "const storageManifest", 1),
			wantErr: "no string constant defaultStorageManifest",
		},
		{
			name:    "imports",
			src:     strings.Replace(src(okManifest), "package nodeimage\n", "package nodeimage\nimport \"fmt\"\nvar _ = fmt.Sprint\n", 1),
			wantErr: "imports packages",
		},
		{
			name:    "not Go",
			src:     "apiVersion: v1\n",
			wantErr: "parse ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := manifest([]byte(tc.src), "regen.local/lpp:v0", "regen.local/helper:r1")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, "kindest") {
				t.Errorf("output still names kind's images:\n%s", got)
			}
		})
	}
}

// TestKindModule reads the real file of the kind version hack/kindnode.sh
// pins, when the module cache has it (hack/kindnode.sh build downloads it).
func TestKindModule(t *testing.T) {
	t.Parallel()
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip("no GOMODCACHE and no home directory")
		}
		cache = filepath.Join(home, "go", "pkg", "mod")
		if gp := os.Getenv("GOPATH"); gp != "" {
			cache = filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
		}
	}
	b, err := os.ReadFile(filepath.Join(cache, "sigs.k8s.io", "kind@v0.33.0", constStorage))
	if err != nil {
		t.Skipf("sigs.k8s.io/kind@v0.33.0 not in the module cache (hack/kindnode.sh build downloads it): %v", err)
	}
	got, err := manifest(b, "regen.local/local-path-provisioner:v0.0.30", "regen.local/local-path-helper:test")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"image: regen.local/local-path-provisioner:v0.0.30\n",
		"- --helper-image\n            - regen.local/local-path-helper:test\n",
		"        image: regen.local/local-path-helper:test\n",
		"volumeBindingMode: WaitForFirstConsumer",
		`"paths":["/var/local-path-provisioner"]`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("manifest lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "kindest/") {
		t.Errorf("manifest still names kind's images:\n%s", got)
	}
}
