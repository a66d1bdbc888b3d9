// Package testutil holds the helpers every test package of the module
// shares, so that none keeps its own copy: a logger that discards, the
// `-update` golden-file idiom (one -update flag for the module's tests), and
// paths to the repository's test data from any package directory.
//
// It imports only the standard library, so harness (which must not import
// runner or executor), runner, cmd, fixtures and suites tests may all use it.
// The executor's pinned-bits tests keep their own -update flag: a package
// must not both declare one and import this package.
package testutil
