// Package workflow implements ComfyUI workflow formats for regen's harness:
// loading API-format prompts and UI/editor (litegraph) graphs, converting a
// UI graph to an API prompt with an /object_info capture, pinning seeds,
// mapping model names through aliases, applying variant overrides, naming
// cases, and validating a prompt before it is submitted.
//
// The package works against any ComfyUI-compatible server: it imports
// neither the executor nor the runner. Prompts marshal to deterministic JSON
// (node ids in natural order, input keys sorted) so that they can be hashed
// and compared byte for byte.
package workflow
