// Package deploy renders and validates regen's Kustomize environments
// (kustomize/overlays/dev|prod|gpu) without a cluster.
//
// Render runs kustomize in-process (krusty, legacy resource order, as the
// kustomize CLI) after walking every kustomization it reaches and failing on
// deprecated fields, which krusty itself only prints to stderr. Validate decodes
// every rendered document strictly into its typed k8s.io/api object (an unknown
// or duplicate field, or a kind/apiVersion regen does not know, is an error) and
// checks the invariants of each environment: probes on the executor's port with
// a startupProbe, non-root and read-only root filesystems, a selector that
// matches its pods, Recreate with one replica unless an HPA owns the replicas,
// GPU limits equal to requests, pinned images and a NetworkPolicy in prod and
// gpu. Every problem names the environment, the object, the field and what to
// change.
package deploy
