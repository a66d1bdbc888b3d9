//go:build !unix

package golden

// lockDir is a no-op where flock is not available: run one approve at a
// time there.
func lockDir(string) (func(), error) { return func() {}, nil }
