// Command testsummary reads `go test -json` on stdin and prints what plain
// `go test` would (the output of failing tests, the closing ok / FAIL / ?
// line of every package, build errors), then a summary of every skipped
// test and partly skipped Ginkgo suite, with the reason and the command that
// enables it. hack/test.sh pipes `make test`'s run through it, so a suite
// that skips on a machine without the control plane or a host node says so
// instead of passing silently.
//
// Usage: go test -json ./... 2>&1 | go run ./hack/testsummary [-json FILE]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	raw := flag.String("json", "", "also write the raw go test -json stream to this file")
	flag.Parse()
	var tee io.Writer = io.Discard
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			os.Exit(2)
		}
		defer f.Close()
		tee = f
	}
	if err := run(io.TeeReader(os.Stdin, tee), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		os.Exit(2)
	}
}
