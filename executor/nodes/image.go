package nodes

import "github.com/regen-dev/regen/executor/node"

func imageNodes() []node.Node { return nil }
