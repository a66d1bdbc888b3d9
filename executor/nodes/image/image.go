package image

import "github.com/regen-dev/regen/executor/node"

// Nodes returns the image node classes: saving (SaveImage,
// PreviewImage, SaveImageWebsocket), loading (LoadImage), resizing
// (ImageScale) and small utilities (SolidColorImage, ImageInvert,
// ImageBatch).
func Nodes() []node.Node {
	return []node.Node{
		&saveNode{},
		&saveNode{preview: true},
		websocketNode{},
		loadNode{},
		scaleNode{},
		solidColorNode{},
		invertNode{},
		batchNode{},
	}
}
