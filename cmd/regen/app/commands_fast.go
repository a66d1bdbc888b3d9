//go:build regenfast

package app

// This is the fast build of regen (go build -tags regenfast), what
// hack/build.sh installs as bin/regen: it links only the commands below and
// the packages they import, so a process that runs them does not
// initialise client-go's schemes, kustomize, the history stores and the
// other ≈ 350 packages the full build links (≈ 20 ms of CPU per process
// before main). Every other command is run by the full build, bin/regen-full,
// which cmd/regen executes in its place (Serves reports false).

// commands lists the subcommands this build runs.
func commands() map[string]command {
	return map[string]command{
		"compare": compareCommand(),
	}
}

// Serves reports whether this build runs args itself: a command it lists,
// given with its arguments (the usage and the version come from the full
// build, which knows every command).
func Serves(args []string) bool {
	if len(args) == 0 {
		return false
	}
	_, ok := commands()[args[0]]
	return ok
}
