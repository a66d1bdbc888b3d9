package nodes

import (
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/conditioning"
	"github.com/regen-dev/regen/executor/nodes/image"
	"github.com/regen-dev/regen/executor/nodes/latent"
	"github.com/regen-dev/regen/executor/nodes/loader"
	"github.com/regen-dev/regen/executor/nodes/sampler"
)

// Builtin returns every built-in node class, for node.NewRegistry.
func Builtin() []node.Node {
	var all []node.Node
	for _, family := range [][]node.Node{
		image.Nodes(),
		loader.Nodes(),
		conditioning.Nodes(),
		latent.Nodes(),
		sampler.Nodes(),
	} {
		all = append(all, family...)
	}
	return all
}
