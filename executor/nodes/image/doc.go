// Package image implements the image node classes (ComfyUI category
// "image"): SaveImage and PreviewImage (PNG with ComfyUI's metadata, the
// counter and subfolder rules of folder_paths), SaveImageWebsocket,
// LoadImage (PNG, JPEG, GIF and WebP, as Pillow decodes them, confined to
// the input folder), ImageScale, and the small utilities SolidColorImage,
// ImageInvert and ImageBatch. IMAGE values are *node.Image.
package image
