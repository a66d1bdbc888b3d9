package compare

import "image"

// PixelSHA256 is the hex SHA-256 of img's decoded 8-bit NRGBA pixels: the
// value a Record keeps as SHA256 and the exact tier compares. The golden
// store uses it to check that a PNG and its record belong together.
func PixelSHA256(img image.Image) string { return pixelSHA256(toNRGBA(img)) }
