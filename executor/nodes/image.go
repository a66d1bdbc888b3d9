package nodes

import "github.com/regen-dev/regen/executor/node"

// imageNodes returns the image node classes: saving (SaveImage,
// PreviewImage, SaveImageWebsocket), loading (LoadImage), resizing
// (ImageScale) and small utilities (SolidColorImage, ImageInvert,
// ImageBatch).
func imageNodes() []node.Node {
	return []node.Node{
		&imgSaveNode{},
		&imgSaveNode{preview: true},
		imgWebsocketNode{},
		imgLoadNode{},
		imgScaleNode{},
		imgSolidColorNode{},
		imgInvertNode{},
		imgBatchNode{},
	}
}
