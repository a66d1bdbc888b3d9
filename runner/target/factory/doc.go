// Package factory is the one place that turns an environment name into a
// target.Target, for `regen run`, `regen variants` and every command after
// them. An environment is:
//
//   - "local" (the default): the built-in executor in-process (target/local);
//   - an http:// or https:// URL: any ComfyUI-compatible server (target.URL);
//   - the name of an overlay under <KustomizeDir>/overlays, found on disk
//     (runner/deploy.Overlays): deploy it into a cluster and reach its pods
//     (target/cluster).
//
// Anything else is an error that lists the environments there are. The CLI
// turns its flags into Options and calls New; it never builds a target
// itself. Adding a kind of target is a case in New and a field or two in
// Options; adding an environment is adding its overlay directory.
//
// New only constructs: nothing starts, listens or touches a cluster until
// the runner calls Start. The package is a sub-package of runner/target
// because the targets it builds import runner/target.
package factory
