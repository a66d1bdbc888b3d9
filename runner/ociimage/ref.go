package ociimage

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultDomain and officialRepoPrefix are what Docker and containerd assume
// for a short name such as regen-executor:dev.
const (
	DefaultDomain      = "docker.io"
	officialRepoPrefix = "library/"
)

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	domainPattern = regexp.MustCompile(`^[A-Za-z0-9.-]+(?::[0-9]+)?$`)
)

// NormalizeRef returns the fully qualified form of an image reference, the
// name containerd stores: regen-executor:dev becomes
// docker.io/library/regen-executor:dev, example.com/a/b stays on its domain
// and gets the tag latest. Digest references are refused: an archive names a
// tag.
func NormalizeRef(ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("normalize image reference: empty")
	}
	if strings.Contains(ref, "@") {
		return "", fmt.Errorf("normalize image reference %q: digest references are not supported, give name:tag", ref)
	}
	name, tag := ref, "latest"
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i+1:]
	}
	if !tagPattern.MatchString(tag) {
		return "", fmt.Errorf("normalize image reference %q: invalid tag %q", ref, tag)
	}
	domain, path := DefaultDomain, name
	if i := strings.Index(name, "/"); i >= 0 {
		first := name[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			domain, path = first, name[i+1:]
		}
	}
	if domain == "index.docker.io" {
		domain = DefaultDomain
	}
	if !domainPattern.MatchString(domain) {
		return "", fmt.Errorf("normalize image reference %q: invalid domain %q", ref, domain)
	}
	if domain == DefaultDomain && !strings.Contains(path, "/") {
		path = officialRepoPrefix + path
	}
	for _, c := range strings.Split(path, "/") {
		if !pathComponent.MatchString(c) {
			return "", fmt.Errorf("normalize image reference %q: invalid repository name component %q (lower case letters, digits, separators)", ref, c)
		}
	}
	return domain + "/" + path + ":" + tag, nil
}
