// Package app implements the regen command line: one subcommand per file,
// each a type with Run(ctx, args) error.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	ExitPass       = 0 // everything passed
	ExitRegression = 1 // at least one regression
	ExitInfra      = 2 // the harness or the infrastructure failed, or bad usage
)

// ErrRegression is returned (wrapped) when a run found a regression: exit 1.
var ErrRegression = errors.New("regression")

// ErrUncalibratable is returned (wrapped) when a case's benign spread
// swallows a positive control: exit 1, like a regression.
var ErrUncalibratable = errors.New("uncalibratable")

// Streams are a command's output streams.
type Streams struct {
	Out, Err io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, s Streams, args []string) error
}

// usageError is a usage mistake; it carries a hint.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + "\nTry: " + e.hint
}

// Run runs regen with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return &usageError{msg: "no command given"}
		}
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, Streams{Out: stdout, Err: stderr}, args[1:])
	}
	c, ok := cmds[args[0]]
	if !ok {
		msg := fmt.Sprintf("unknown command %q", args[0])
		if strings.HasPrefix(args[0], "-") {
			msg = fmt.Sprintf("unknown flag %q: flags come after the command", args[0])
		}
		return &usageError{msg: msg, hint: "regen help"}
	}
	return c.run(ctx, Streams{Out: stdout, Err: stderr}, args[1:])
}

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "regen: regression testing for reproducible image generation")
	fmt.Fprintln(w, "\nUsage: regen <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nExamples:")
	fmt.Fprintln(w, "  regen run                                   # replay the suite, judge every output")
	fmt.Fprintln(w, "  regen golden approve --from-run out/r1      # promote a run's new and failed outputs")
	fmt.Fprintln(w, "  regen compare golden.png actual.png         # judge one image against another")
	fmt.Fprintln(w, "  regen report html out/r1                    # regenerate a run's report.html")
	fmt.Fprintln(w, "\nFlags:\n  -h, --help    this help\n  --version     print the version (regen version)")
	fmt.Fprintln(w, "\nRun 'regen <command> -h' for a command's flags.")
}

// ExitCode maps an error to regen's exit code and prints it.
func ExitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return ExitPass
	case errors.Is(err, ErrRegression), errors.Is(err, ErrUncalibratable):
		fmt.Fprintln(stderr, "regen:", err)
		return ExitRegression
	default:
		msg := err.Error()
		fmt.Fprintln(stderr, "regen: "+strings.TrimSpace(msg))
		return ExitInfra
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, s Streams) *flag.FlagSet {
	fs := flag.NewFlagSet("regen "+name, flag.ContinueOnError)
	fs.SetOutput(s.Err)
	return fs
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// plural is "1 case" or "2 cases".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
