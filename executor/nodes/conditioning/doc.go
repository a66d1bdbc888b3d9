// Package conditioning implements the conditioning node classes (ComfyUI
// category "conditioning"): CLIPTextEncode, which encodes a prompt with the
// checkpoint's text encoder, and the CONDITIONING plumbing
// ConditioningCombine and ConditioningZeroOut. CONDITIONING values are
// node.Conditioning.
package conditioning
