//go:build !regenfast

package app

// commands lists the subcommands; each is defined in its own file. (The
// regenfast build, bin/regen, lists only those in commands_fast.go.)
func commands() map[string]command {
	return map[string]command{
		"compare":  compareCommand(),
		"inspect":  inspectCommand(),
		"workflow": workflowCommand(),
		"run":      runCommand(),
		"bisect":   bisectCommand(),
		"golden":   goldenCommand(),
		"history":  historyCommand(),
		"variants": variantsCommand(),
		"report":   reportCommand(),
		"deploy":   deployCommand(),
		"image":    imageCommand(),
		"version":  versionCommand(),
	}
}

// Serves reports whether this build runs args itself: the full build runs
// every command.
func Serves(args []string) bool { return true }
