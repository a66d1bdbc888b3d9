package nodes

import (
	"context"
	"encoding/binary"
	"fmt"
	"image/png"

	"github.com/regen-dev/regen/executor/node"
)

// imgWebsocketNode is SaveImageWebsocket (ComfyUI's example custom node
// custom_nodes/websocket_image_save.py): every image of the batch is sent to
// the prompt's client as a binary PREVIEW_IMAGE frame holding a full-size
// PNG (format 2), with no metadata, and no file is written.
type imgWebsocketNode struct{}

var (
	_ node.Node      = imgWebsocketNode{}
	_ node.IsChanger = imgWebsocketNode{}
)

func (imgWebsocketNode) Spec() node.Spec {
	return node.Spec{
		Name:        "SaveImageWebsocket",
		DisplayName: "SaveImageWebsocket",
		Category:    "api/image",
		Module:      "custom_nodes.websocket_image_save",
		Inputs:      []node.Input{{Name: "images", Type: node.TypeImage}},
		OutputNode:  true,
	}
}

// IsChanged always re-runs the node, as ComfyUI's returns time.time().
func (imgWebsocketNode) IsChanged(*node.Env, map[string]any) (string, bool, error) {
	return "", true, nil
}

func (imgWebsocketNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	images, err := node.As[*node.Image](in, "images")
	if err != nil {
		return node.Result{}, err
	}
	if images == nil {
		return node.Result{}, fmt.Errorf("send images: nil batch")
	}
	for b := range images.N {
		if err := ctx.Err(); err != nil {
			return node.Result{}, fmt.Errorf("send images: %w", err)
		}
		// ComfyUI reports progress (b of N) and then sends the image.
		if err := env.CheckProgress(b, images.N); err != nil {
			return node.Result{}, err
		}
		frame, err := imgPreviewFrame(images, b)
		if err != nil {
			return node.Result{}, err
		}
		if env != nil && env.SendBinary != nil {
			env.SendBinary(node.BinaryPreviewImage, frame)
		}
	}
	return node.Result{}, nil
}

// imgPreviewFrame is the payload of a PREVIEW_IMAGE frame: the 4-byte
// big-endian format code 2 (PNG) and the PNG bytes (compress level 1, as
// ComfyUI's send_image).
func imgPreviewFrame(images *node.Image, b int) ([]byte, error) {
	data, err := EncodePNG(images, b, nil, png.BestSpeed)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(frame, node.FormatPNG)
	return append(frame, data...), nil
}
