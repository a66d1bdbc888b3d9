// Package plan implements the first step of regen's loop: it expands a
// suite's workflows × variants × seeds into cases with stable ids
// (<workflow>[<variant>]/seed=<n>), converting UI-format workflows with the
// target's /object_info, applying model aliases and overrides, and pinning
// every seed widget. The transformations are harness/workflow's; this
// package only orders and names them.
package plan
