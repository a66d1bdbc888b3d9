package image

import (
	"context"
	"encoding/binary"
	"fmt"
	"image/png"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

// websocketNode is SaveImageWebsocket (ComfyUI's example custom node
// custom_nodes/websocket_image_save.py): every image of the batch is sent to
// the prompt's client as a binary PREVIEW_IMAGE frame holding a full-size
// PNG (format 2), with no metadata, and no file is written.
type websocketNode struct{}

var (
	_ node.Node      = websocketNode{}
	_ node.IsChanger = websocketNode{}
)

func (websocketNode) Spec() node.Spec {
	return node.Spec{
		Name:        "SaveImageWebsocket",
		DisplayName: "Save Image (Websocket)",
		Category:    "image",
		Module:      "custom_nodes.websocket_image_save",
		Inputs:      []node.Input{{Name: "images", Type: node.TypeImage}},
		OutputNode:  true,
	}
}

// IsChanged always re-runs the node, as ComfyUI's returns time.time().
func (websocketNode) IsChanged(*node.Env, map[string]any) (string, bool, error) {
	return "", true, nil
}

func (websocketNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	images := r.Image("images")
	if err := r.Err(); err != nil {
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
		frame, err := previewFrame(images, b)
		if err != nil {
			return node.Result{}, err
		}
		if env != nil && env.SendBinary != nil {
			env.SendBinary(node.BinaryPreviewImage, frame)
		}
	}
	return node.Result{}, nil
}

// previewFrame is the payload of a PREVIEW_IMAGE frame: the 4-byte
// big-endian format code 2 (PNG) and the PNG bytes (compress level 1, as
// ComfyUI's send_image).
func previewFrame(images *node.Image, b int) ([]byte, error) {
	data, err := pngmeta.Encode(images, b, nil, png.BestSpeed)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(frame, node.FormatPNG)
	return append(frame, data...), nil
}
