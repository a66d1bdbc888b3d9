package executor

import "github.com/regen-dev/regen/executor/node"

func nodeDirs(d [4]string) node.Dirs {
	return node.Dirs{Models: d[0], Input: d[1], Output: d[2], Temp: d[3]}
}
