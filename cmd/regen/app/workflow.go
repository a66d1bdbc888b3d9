//go:build !regenfast

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/suite"
)

const workflowUsage = `Usage: regen workflow <convert|pin|validate> [flags] WORKFLOW.json

  convert   print WORKFLOW as an API-format prompt (indented, deterministic JSON);
            a UI/editor workflow is converted with the target's node schemas
  pin       like convert, with every seed input set to --seed (pinned inputs
            are listed on stderr)
  validate  check WORKFLOW against the target's node schemas as the server
            would: unknown node types, missing required inputs, values not in
            a list or out of range, dangling or mistyped links

A UI workflow needs the schemas: --object-info FILE (a saved GET /object_info,
e.g. curl -o object_info.json http://127.0.0.1:8188/object_info) or
--url URL (ask a running ComfyUI or regen-executor). validate checks against
exactly what that server's /object_info says (an empty option list accepts
nothing); without --url or --object-info it checks offline against the
suite's committed capture of regen-executor (object_info: in --suite).
A model file the target lacks is reported with the suite profile whose
aliases apply to that target, as regen run picks it (--profile, else the
one --suite marks for the kind of server: a --url is asked, the capture is
regen-executor's): whether it maps the name and to what, or that it maps
none. validate itself applies only --alias.

Flags:
`

// workflowFlags are regen workflow's flags.
type workflowFlags struct {
	objectInfo string
	url        string
	seed       string
	suite      string
	suiteSet   bool
	profile    string
	aliases    aliasFlag
	timeout    time.Duration
}

// aliasFlag collects repeated --alias FROM=TO flags.
type aliasFlag map[string]string

func (a aliasFlag) String() string { return fmt.Sprint(map[string]string(a)) }

func (a aliasFlag) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want FROM=TO (a model file name the workflow uses = the name the target has), got %q", v)
	}
	a[from] = to
	return nil
}

func workflowCommand() command {
	return command{
		summary: "convert a UI workflow to an API prompt, pin its seeds, validate it",
		run:     runWorkflow,
	}
}

func runWorkflow(ctx context.Context, s Streams, args []string) error {
	f := workflowFlags{aliases: aliasFlag{}}
	fs := newFlagSet("workflow", s)
	fs.Var(f.aliases, "alias", "map a model file name: `FROM=TO` (repeatable); applied before pin and validate")
	fs.StringVar(&f.objectInfo, "object-info", "", "read node schemas from this /object_info capture `file`")
	fs.StringVar(&f.url, "url", "", "read node schemas from the server at this `URL` (GET /object_info)")
	fs.StringVar(&f.seed, "seed", "", "pin: the `seed` to set (0 … 18446744073709551615)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "with --url: how long to wait for the server")
	fs.StringVar(&f.suite, "suite", defaultSuite, "validate without --url or --object-info: check against this suite's committed object_info capture; validate: the suite whose profile's model aliases a missing model's hint names")
	fs.StringVar(&f.profile, "profile", "", "validate: the suite profile whose model aliases a missing model's hint names (default: the one a run would pick for the target's kind; --url is asked, offline is regen-executor)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), workflowUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return &usageError{msg: "workflow: no subcommand given", hint: "regen workflow convert --object-info object_info.json WORKFLOW.json"}
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fmt.Fprint(fs.Output(), helpText(fs, fs.Usage))
		return flag.ErrHelp
	}
	if sub != "convert" && sub != "pin" && sub != "validate" {
		return &usageError{msg: fmt.Sprintf("workflow: unknown subcommand %q", sub), hint: "regen workflow -h"}
	}
	paths, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(paths) != 1 {
		return &usageError{msg: fmt.Sprintf("workflow %s: want one workflow file, got %d", sub, len(paths)),
			hint: "regen workflow " + sub + " [flags] WORKFLOW.json"}
	}
	fs.Visit(func(fl *flag.Flag) { f.suiteSet = f.suiteSet || fl.Name == "suite" })
	if f.objectInfo != "" && f.url != "" {
		return &usageError{msg: "workflow: --object-info and --url are exclusive", hint: "regen workflow -h"}
	}
	var seed uint64
	if sub == "pin" {
		if f.seed == "" {
			return &usageError{msg: "workflow pin: --seed is required", hint: "regen workflow pin --seed 42 WORKFLOW.json"}
		}
		if seed, err = strconv.ParseUint(f.seed, 10, 64); err != nil {
			return &usageError{msg: fmt.Sprintf("workflow pin: --seed %q is not an unsigned 64-bit integer", f.seed)}
		}
	}

	w, err := workflow.Load(paths[0])
	if err != nil {
		return err
	}
	info, kind, err := f.schemas(ctx, s, w, sub == "validate")
	if err != nil {
		return err
	}
	p, err := w.Prompt(info)
	if err != nil {
		return fmt.Errorf("convert %s: %w", paths[0], err)
	}
	if len(f.aliases) > 0 {
		var done []workflow.Alias
		p, done = workflow.ApplyAliases(p, f.aliases, info)
		for _, a := range done {
			fmt.Fprintf(s.Err, "alias %s: %s → %s\n", a.InputRef, a.From, a.To)
		}
	}
	switch sub {
	case "validate":
		// Unlike a run's plan (which uploads the suite's inputs before
		// submitting), validate checks LoadImage files as the server would.
		prof, err := f.aliasProfile(kind)
		if err != nil {
			return err
		}
		opts := workflow.ValidateOptions{Files: true, Profile: prof, NoAliases: prof != nil && len(prof.Aliases) == 0}
		if err := workflow.ValidateWith(p, info, opts); err != nil {
			return fmt.Errorf("validate %s: %w", paths[0], err)
		}
		fmt.Fprintf(s.Out, "%s: ok (%d nodes, %s format)\n", paths[0], len(p), w.Format)
		return nil
	case "pin":
		var res workflow.PinResult
		if p, res, err = workflow.Pin(p, seed, info); err != nil {
			return fmt.Errorf("pin %s: %w", paths[0], err)
		}
		fmt.Fprintf(s.Err, "pinned %s to %d: %s\n", plural(len(res.Pinned), "input", "inputs"), seed, joinRefs(res.Pinned))
		if len(res.Linked) > 0 {
			fmt.Fprintf(s.Err, "warning: seed inputs fed by a link cannot be pinned: %s\n", joinRefs(res.Linked))
		}
	}
	out, err := p.Indent()
	if err != nil {
		return err
	}
	_, err = s.Out.Write(out)
	return err
}

// schemas loads the node schemas the flags name. They are required to
// convert a UI workflow and to validate; an API workflow converts without.
// kind is the kind of server the schemas are from (suite.TargetComfyUI or
// suite.TargetRegenExecutor), "" when unknown: a --url is asked
// (GET /system_stats, as a run asks it) when validating, the suite's
// capture is regen-executor's, an --object-info file does not say.
//
// Validating with neither --url nor --object-info uses the suite's committed
// capture (offline); a missing default suite file falls through to the usage
// error, a --suite the user named that cannot be read is an error.
func (f workflowFlags) schemas(ctx context.Context, s Streams, w *workflow.Workflow, validate bool) (workflow.ObjectInfo, string, error) {
	switch {
	case f.objectInfo != "":
		info, err := workflow.LoadObjectInfo(f.objectInfo)
		return info, "", err
	case f.url != "":
		c, err := client.New(f.url, client.WithTimeout(f.timeout))
		if err != nil {
			return nil, "", &usageError{msg: err.Error()}
		}
		ctx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		info, err := c.ObjectInfo(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("%w\nTry: check that a ComfyUI-compatible server listens at %s, or pass --object-info FILE", err, f.url)
		}
		kind := ""
		if validate && f.profile == "" {
			// Only the hint of a missing model needs it: a server that
			// does not answer leaves the kind unknown.
			if st, err := c.SystemStats(ctx); err == nil {
				kind = runner.TargetKind(st.Raw)
			}
		}
		return info, kind, nil
	case validate:
		info, path, err := f.suiteCapture()
		if err != nil {
			return nil, "", err
		}
		if info != nil {
			fmt.Fprintf(s.Err, "validating offline against %s (the suite's capture of regen-executor); pass --url URL to validate against a server\n", path)
			return info, suite.TargetRegenExecutor, nil
		}
		fallthrough
	case w.Format == workflow.FormatUI:
		what := "converting a UI workflow"
		if w.Format == workflow.FormatAPI {
			what = "validating"
		}
		return nil, "", &usageError{msg: what + " needs the target's node schemas",
			hint: "regen workflow " + "convert --object-info object_info.json WORKFLOW.json (capture it with curl http://127.0.0.1:8188/object_info), or --url http://127.0.0.1:8188"}
	}
	return nil, "", nil
}

// aliasProfile is the suite profile whose model aliases apply to a target
// of kind, as a run picks it (--profile, else the one the suite marks for
// the kind), for the hint of a missing model. It is nil when there is no
// suite to ask (the default suite file is absent and --profile is unset).
func (f workflowFlags) aliasProfile(kind string) (*workflow.AliasProfile, error) {
	if !f.suiteSet && f.profile == "" {
		if _, err := os.Stat(f.suite); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	st, err := suite.Load(f.suite)
	if err != nil {
		return nil, fmt.Errorf("read the suite's profiles: %w", err)
	}
	prof, err := st.SelectProfile(f.profile, kind)
	if err != nil {
		return nil, &usageError{msg: "workflow validate: --profile: " + err.Error(), hint: "regen workflow validate --profile " + st.ProfileNames()[0] + " WORKFLOW.json"}
	}
	if f.profile == "" && kind == "" {
		prof.Reason = "the default: an --object-info capture does not say which kind of server it is from, --profile names one"
		if f.url != "" {
			prof.Reason = "the default: " + f.url + " did not answer /system_stats to say what it is, --profile names one"
		}
	}
	return &workflow.AliasProfile{Name: prof.Name, Reason: prof.Reason, Aliases: prof.Aliases}, nil
}

// defaultSuite is the suite file regen run reads by default.
const defaultSuite = "fixtures/suite.yaml"

// suiteCapture loads the object_info capture the suite file names. It
// returns a nil ObjectInfo and no error when the default suite file is
// absent (not run from a regen checkout) or names no capture.
func (f workflowFlags) suiteCapture() (workflow.ObjectInfo, string, error) {
	if !f.suiteSet {
		if _, err := os.Stat(f.suite); errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
	}
	st, err := suite.Load(f.suite)
	if err != nil {
		return nil, "", fmt.Errorf("read the committed object_info capture: %w", err)
	}
	if st.ObjectInfo == "" {
		if f.suiteSet {
			return nil, "", &usageError{msg: fmt.Sprintf("workflow validate: suite %s names no object_info capture", f.suite),
				hint: "regen workflow validate --url http://127.0.0.1:8188 WORKFLOW.json"}
		}
		return nil, "", nil
	}
	path := st.Resolve(st.ObjectInfo)
	info, err := workflow.LoadObjectInfo(path)
	if err != nil {
		return nil, "", err
	}
	return info, path, nil
}

func joinRefs(refs []workflow.InputRef) string {
	if len(refs) == 0 {
		return "none"
	}
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}
