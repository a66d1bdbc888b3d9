package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// module is stripped from package paths in the summary.
const module = "github.com/regen-dev/regen/"

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is one skipped test, or a Ginkgo suite that ran only some specs.
type skip struct {
	pkg, test, reason, enable string
}

var (
	// fileLine is the "    foo_test.go:12: " prefix of a t.Skip message.
	fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)
	// ginkgoRan is Ginkgo's "Ran 3 of 28 Specs in 1.2 seconds".
	ginkgoRan = regexp.MustCompile(`Ran (\d+) of (\d+) Specs`)
	// ansi matches terminal colour codes.
	ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")
)

// run renders the event stream in to out as plain go test would, then the
// skip summary.
func run(in io.Reader, out io.Writer) error {
	bufs := map[string][]string{} // package NUL test → its output so far
	var skips []skip
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
			fmt.Fprintf(out, "%s\n", line) // not an event: build errors on stderr, vet
			continue
		}
		key := ev.Package + "\x00" + ev.Test
		switch ev.Action {
		case "build-output":
			fmt.Fprint(out, ev.Output)
		case "output":
			if ev.Test != "" {
				if !strings.HasPrefix(ev.Output, "=== ") { // verbose-only markers
					bufs[key] = append(bufs[key], ev.Output)
				}
			} else if ev.Output != "PASS\n" && !strings.HasPrefix(ev.Output, "=== ") {
				fmt.Fprint(out, ev.Output)
			}
		case "fail":
			if ev.Test != "" {
				fmt.Fprint(out, failure(bufs[key]))
			}
			delete(bufs, key)
		case "pass":
			if s, ok := partialSuite(ev, bufs[key]); ok {
				skips = append(skips, s)
			}
			delete(bufs, key)
		case "skip":
			if ev.Test != "" {
				skips = append(skips, skipped(ev, bufs[key]))
			}
			delete(bufs, key)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read go test output: %w", err)
	}
	writeSummary(out, skips)
	return nil
}

// failure is a failed test's output as plain go test prints it: the
// "--- FAIL" line first, then what the test logged.
func failure(output []string) string {
	var head, body []string
	for _, l := range output {
		if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
			head = append(head, l)
		} else {
			body = append(body, l)
		}
	}
	return strings.Join(append(head, body...), "")
}

// skipped makes the skip of ev from its output: the t.Skip message.
func skipped(ev event, output []string) skip {
	var msg []string
	for _, l := range output {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, strings.TrimSpace(fileLine.ReplaceAllString(l, "")))
	}
	s := skip{pkg: strings.TrimPrefix(ev.Package, module), test: ev.Test, reason: strings.Join(msg, " ")}
	if s.reason == "" {
		s.reason = "(no reason given)"
	}
	s.reason, s.enable = enableOf(s)
	return s
}

// partialSuite reports a passing Ginkgo suite that ran fewer specs than it has.
func partialSuite(ev event, output []string) (skip, bool) {
	for _, l := range slices.Backward(output) {
		m := ginkgoRan.FindStringSubmatch(ansi.ReplaceAllString(l, ""))
		if m == nil {
			continue
		}
		ran, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		if ran >= total {
			return skip{}, false
		}
		pkg := strings.TrimPrefix(ev.Package, module)
		return skip{pkg: pkg, test: ev.Test,
			reason: fmt.Sprintf("Ginkgo ran %d of %d specs; %d skipped or filtered", ran, total, total-ran),
			enable: "go test -count=1 -v ./" + pkg + " (names each skipped spec and why)"}, true
	}
	return skip{}, false
}

// enableOf splits a skip message's "; enable: CMD" off its reason, or
// guesses the command from the reasons regen's tests give.
func enableOf(s skip) (reason, enable string) {
	if r, cmd, ok := strings.Cut(s.reason, "; enable: "); ok {
		return r, cmd
	}
	run := fmt.Sprintf("go test -count=1 -run '^%s$' ./%s", strings.ReplaceAll(s.test, "/", "$/^"), s.pkg)
	switch {
	case strings.Contains(s.reason, "control-plane binaries not built"):
		return s.reason, "hack/controlplane.sh build"
	case strings.Contains(s.reason, "host node unavailable"):
		return s.reason, "hack/hostnode.sh prepare (as root)"
	case strings.Contains(s.reason, "-race"):
		return s.reason, run + " (without -race)"
	case strings.Contains(s.reason, "-short"):
		return s.reason, run + " (without -short)"
	}
	return s.reason, ""
}

func writeSummary(out io.Writer, skips []skip) {
	if len(skips) == 0 {
		fmt.Fprintln(out, "== skipped: nothing")
		return
	}
	slices.SortStableFunc(skips, func(a, b skip) int {
		return strings.Compare(a.pkg+"\x00"+a.test, b.pkg+"\x00"+b.test)
	})
	fmt.Fprintf(out, "== skipped: %d (the run above did not exercise these)\n", len(skips))
	for _, s := range skips {
		fmt.Fprintf(out, "SKIP %s %s: %s\n", s.pkg, s.test, s.reason)
		if s.enable != "" {
			fmt.Fprintf(out, "     enable: %s\n", s.enable)
		}
	}
}
