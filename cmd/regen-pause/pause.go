package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
)

// version is printed by -v.
const version = "regen-pause 3.10"

// run blocks until a stop signal and returns the exit code. ready, if not
// nil, is called once the signal handlers are installed (for tests).
func run(args []string, stdout io.Writer, ready func()) int {
	if len(args) == 1 && (args[0] == "-v" || args[0] == "--version") {
		fmt.Fprintln(stdout, version)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "regen-pause: unexpected arguments %q (it takes none; -v prints the version)\n", args)
		return 2
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, append(stopSignals(), childSignals()...)...)
	defer signal.Stop(sigs)
	if ready != nil {
		ready()
	}
	return wait(sigs, reapAll)
}

// wait reaps on every child signal and returns 0 on the first other signal
// (or when sigs is closed).
func wait(sigs <-chan os.Signal, reap func() int) int {
	children := childSignals()
	for s := range sigs {
		isChild := false
		for _, c := range children {
			isChild = isChild || s == c
		}
		if !isChild {
			return 0
		}
		reap()
	}
	return 0
}
