// Package pngmeta writes and reads PNG files as ComfyUI does: one sample of
// an IMAGE batch encoded with ComfyUI's pixel conversion (Encode, Byte) and
// its tEXt metadata ("prompt", "workflow", ...) formatted as Python's
// json.dumps prints it (PyJSON); the chunk reader and writer the image
// nodes use to look inside a PNG (ReadChunks, WriteChunk); and ReadText,
// which reads the text chunks back (tEXt, zTXt, iTXt).
package pngmeta
