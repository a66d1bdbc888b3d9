// Package version reports the build's version, stamped in by hack/build.sh
// with -ldflags -X.
package version

import "runtime/debug"

// gitCommit is set at link time.
var gitCommit = ""

// Version is regen's release version.
const Version = "0.1.0"

// Commit returns the git commit the binary was built from, or "dev".
func Commit() string {
	if gitCommit != "" {
		return gitCommit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				return s.Value[:7]
			}
		}
	}
	return "dev"
}

// String is "0.1.0 (commit)".
func String() string { return Version + " (" + Commit() + ")" }
