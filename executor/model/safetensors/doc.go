// Package safetensors reads and writes the safetensors file format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to their
// dtype, shape and data offsets (plus an optional "__metadata__" string map),
// then the little-endian tensor data.
//
// The reader validates every offset, size and overlap so that a hostile file
// yields an error, never a panic or an oversized allocation. The writer is
// deterministic: tensors are laid out by element size (largest first) and then
// by name, the header is padded with spaces to a multiple of 8 bytes, so equal
// inputs give equal bytes and every tensor is naturally aligned.
package safetensors
