package latent

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/node"
)

// vaeDecodeNode is VAEDecode.
type vaeDecodeNode struct{}

func (vaeDecodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAEDecode", DisplayName: "VAE Decode", Category: "model/latent", Module: "nodes",
		SearchAliases: []string{"decode", "decode latent", "latent to image", "render latent"},
		Description:   "Decodes latent images back into pixel space images.",
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent, Tooltip: "The latent to be decoded."},
			{Name: "vae", Type: node.TypeVAE, Tooltip: "The VAE model used for decoding the latent."},
		},
		Outputs: []node.Output{{Type: node.TypeImage, Tooltip: "The decoded image."}},
	}
}

func (vaeDecodeNode) Execute(ctx context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	lat, vae := r.Latent("samples"), r.VAE("vae")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	img, err := vae.Decode(ctx, lat.Samples)
	if err != nil {
		return node.Result{}, fmt.Errorf("vae decode: %w", err)
	}
	return node.Result{Outputs: []any{img}}, nil
}

// vaeEncodeNode is VAEEncode.
type vaeEncodeNode struct{}

func (vaeEncodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAEEncode", DisplayName: "VAE Encode", Category: "model/latent", Module: "nodes",
		SearchAliases: []string{"encode", "encode image", "image to latent"},
		Inputs: []node.Input{
			{Name: "pixels", Type: node.TypeImage},
			{Name: "vae", Type: node.TypeVAE},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (vaeEncodeNode) Execute(ctx context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	img, vae := r.Image("pixels"), r.VAE("vae")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	t, err := vae.Encode(ctx, img)
	if err != nil {
		return node.Result{}, fmt.Errorf("vae encode: %w", err)
	}
	return node.Result{Outputs: []any{&node.Latent{Samples: t}}}, nil
}
