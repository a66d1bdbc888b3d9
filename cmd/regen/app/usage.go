package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// examples are the Examples section of each flag set's -h, keyed by the
// flag set's name without "regen " (its first two words at most).
var examples = map[string][]string{
	"run": {
		"regen run                                        # the suite on the in-process executor",
		"regen run --filter 'txt2img' --seeds 1,2,3 --report out/r2",
		"regen run --label smoke --concurrency 2",
		"regen run --url http://127.0.0.1:8188           # any ComfyUI-compatible server",
		"regen run --env dev --cluster host              # in a pod on this machine, reached by its pod IP",
		"regen run --env dev --port-forward              # reach the pods through the apiserver, not their IPs",
		"regen run --list --label lora                   # the planned cases and their labels",
	},
	"golden approve": {
		"regen golden approve                             # the newest out/run-*",
		"regen golden approve --from-run out/r1 --filter 'img2img'",
	},
	"compare": {
		"regen compare golden.png actual.png",
		"regen compare --json --diff diff.png golden/cpu/txt2img-gmm/euler.seed-1.7-0.json actual.png",
	},
	"report html": {
		"regen report html                                # the newest out/run-*",
		"regen report html out/r1 --out /tmp/r1.html",
	},
	"variants": {
		"regen variants --workflow fixtures/workflows/txt2img-gmm.json --samplers euler,heun --schedulers normal,karras --seed 1",
	},
	"workflow": {
		"regen workflow convert --object-info fixtures/workflows/object_info.json my-ui-workflow.json",
		"regen workflow pin --seed 42 fixtures/workflows/txt2img-gmm.json",
		"regen workflow validate --url http://127.0.0.1:8188 my-workflow.json",
	},
	"inspect": {
		"regen inspect noise --seed 42 --shape 1,4,8,8",
		"regen inspect sigmas --scheduler karras --steps 20 --denoise 0.6",
	},
	"deploy": {
		"regen deploy validate --env all",
		"regen deploy render --env prod -o prod.yaml",
		"regen deploy apply --env dev --kubeconfig ~/.kube/config",
	},
	"image": {
		"regen image executor -o bin/images/regen-executor-dev.oci.tar",
		"regen image pause -o bin/images/regen-pause.oci.tar",
	},
}

// examplesFor returns the examples of a flag set named "regen <words>".
func examplesFor(name string) []string {
	words := strings.Fields(strings.TrimPrefix(name, "regen "))
	for n := min(2, len(words)); n > 0; n-- {
		if ex, ok := examples[strings.Join(words[:n], " ")]; ok {
			return ex
		}
	}
	return nil
}

// examplesSection is "\nExamples:\n  …\n" for key, or "".
func examplesSection(key string) string {
	ex := examples[key]
	if len(ex) == 0 {
		return ""
	}
	return "\nExamples:\n  " + strings.Join(ex, "\n  ") + "\n"
}

// helpText renders fs's usage as -h shows it: the command's own text, an
// Examples section, then the flags under a Flags heading.
func helpText(fs *flag.FlagSet, usage func()) string {
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	usage()
	fs.SetOutput(out)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	// PrintDefaults writes each flag as "  -name ...": the head ends there.
	cut := len(lines)
	for i, l := range lines {
		if strings.HasPrefix(l, "  -") {
			cut = i
			break
		}
	}
	head := lines[:cut]
	for len(head) > 0 {
		last := strings.TrimSpace(head[len(head)-1])
		if last == "" || (strings.HasPrefix(last, "Flags") && strings.HasSuffix(last, ":")) {
			head = head[:len(head)-1]
			continue
		}
		break
	}
	var b strings.Builder
	b.WriteString(strings.Join(head, "\n"))
	if ex := examplesFor(fs.Name()); len(ex) > 0 {
		b.WriteString("\n\nExamples:\n")
		for _, e := range ex {
			b.WriteString("  " + e + "\n")
		}
	} else {
		b.WriteString("\n")
	}
	if cut < len(lines) {
		b.WriteString("\nFlags:\n" + strings.Join(lines[cut:], "\n") + "\n")
	} else {
		b.WriteString("\nFlags: none\n")
	}
	return b.String()
}

// usageLine is the first "Usage:" line of fs's usage, for error messages.
func usageLine(fs *flag.FlagSet, usage func()) string {
	for _, l := range strings.Split(helpText(fs, usage), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Usage:") {
			return strings.TrimSpace(l)
		}
	}
	return "Usage: " + fs.Name() + " [flags]"
}

// parseFlags parses args with fs. -h prints the help (Examples and Flags
// included) and returns flag.ErrHelp; a bad flag is one usageError that
// says what was wrong once, the one-line usage and, for an unknown flag,
// the closest defined one, instead of the flag package's full usage and a
// second copy of the error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	if usage == nil {
		usage = fs.PrintDefaults
	}
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(out, helpText(fs, usage))
		return err
	}
	msg := strings.TrimPrefix(fs.Name(), "regen ") + ": " + err.Error()
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		if s := closestFlag(fs, strings.TrimLeft(name, "-")); s != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", s)
		}
	}
	return &usageError{msg: msg + "\n" + usageLine(fs, usage), hint: fs.Name() + " -h"}
}

// closestFlag returns the defined flag nearest to name (edit distance at
// most a third of its length, at least 2; or name as a prefix), or "".
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if best == "" || d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD > max(2, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
