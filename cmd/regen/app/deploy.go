package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/deploy"
)

const deployUsage = `Usage: regen deploy render   --env dev|prod|gpu [--dir kustomize] [-o FILE]
       regen deploy validate --env dev|prod|gpu|all [--dir kustomize]
       regen deploy apply|delete --env E   (needs a cluster: not built yet)

Render and check regen-executor's Kustomize environments, with no cluster:

  render    build <dir>/overlays/<env> in-process (kustomize's legacy order)
            and print the manifests; deprecated kustomization fields fail.
  validate  render, decode every object strictly into its Kubernetes type
            (unknown fields fail) and check the environment's invariants:
            probes on 8188 with a startupProbe, non-root, read-only root FS,
            selector = pod labels, Recreate with 1 replica (unless an HPA),
            GPU limit = request (gpu), pinned images and a NetworkPolicy
            (prod, gpu).
`

func deployCommand() command {
	return command{summary: "render and validate the Kubernetes environments (kustomize/)", run: runDeploy}
}

type deployFlags struct {
	env, dir, out string
}

func runDeploy(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.Err, deployUsage)
		return &usageError{msg: "deploy needs an action: render, validate, apply or delete", hint: "regen deploy validate --env all"}
	}
	action := args[0]
	switch action {
	case "-h", "--help", "help":
		fmt.Fprint(s.Out, deployUsage)
		return nil
	case "render", "validate", "apply", "delete":
	default:
		return &usageError{msg: fmt.Sprintf("unknown deploy action %q (want render, validate, apply or delete)", action), hint: "regen deploy -h"}
	}
	var f deployFlags
	fs := newFlagSet("deploy "+action, s)
	envs := strings.Join(deploy.Environments, ", ")
	if action == "validate" {
		fs.StringVar(&f.env, "env", "all", "environment: "+envs+" or all")
	} else {
		fs.StringVar(&f.env, "env", "", "environment: "+envs)
	}
	fs.StringVar(&f.dir, "dir", deploy.DefaultDir, "kustomize root (holds base/, components/, overlays/)")
	if action == "render" {
		fs.StringVar(&f.out, "o", "", "write the manifests to this file instead of stdout")
	}
	fs.Usage = func() { fmt.Fprint(fs.Output(), deployUsage+"\nFlags:\n"); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), hint: "regen deploy " + action + " -h"}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("deploy %s: unexpected argument %q", action, fs.Arg(0)), hint: "regen deploy " + action + " -h"}
	}
	if f.env == "" {
		return &usageError{msg: "deploy " + action + " needs --env (" + strings.Join(deploy.Environments, ", ") + ")", hint: "regen deploy " + action + " --env dev"}
	}
	switch action {
	case "render":
		return deployRender(ctx, s, f)
	case "validate":
		return deployValidate(ctx, s, f)
	default:
		return fmt.Errorf("deploy %s --env %s needs a cluster: it comes with the cluster target (not built yet). Meanwhile: regen deploy render --env %s | kubectl %s --server-side -f -",
			action, f.env, f.env, action)
	}
}

func deployRender(ctx context.Context, s Streams, f deployFlags) error {
	dir, err := deploy.OverlayDir(f.dir, f.env)
	if err != nil {
		return &usageError{msg: err.Error(), hint: "regen deploy render --env dev"}
	}
	out, err := deploy.Render(ctx, dir)
	if err != nil {
		return err
	}
	if f.out == "" {
		_, err = s.Out.Write(out)
		return err
	}
	if err := os.WriteFile(f.out, out, 0o644); err != nil {
		return fmt.Errorf("write manifests: %w", err)
	}
	return nil
}

func deployValidate(ctx context.Context, s Streams, f deployFlags) error {
	envs := []string{f.env}
	if f.env == "all" {
		envs = deploy.Environments
	}
	var errs []error
	for _, env := range envs {
		dir, err := deploy.OverlayDir(f.dir, env)
		if err != nil {
			return &usageError{msg: err.Error(), hint: "regen deploy validate --env all"}
		}
		start := time.Now()
		out, err := deploy.RenderAndValidate(ctx, env, dir)
		if err != nil {
			fmt.Fprintf(s.Out, "%-5s FAIL\n", env)
			errs = append(errs, err)
			continue
		}
		objs, err := deploy.Decode(out)
		if err != nil {
			return err // validated above: cannot happen unless Decode changed
		}
		ids := make([]string, len(objs))
		for i, o := range objs {
			ids[i] = o.ID()
		}
		fmt.Fprintf(s.Out, "%-5s ok    %d objects in %v: %s\n", env, len(objs), time.Since(start).Round(time.Millisecond), strings.Join(ids, ", "))
	}
	if len(errs) > 0 {
		return fmt.Errorf("deploy validate: %w", errors.Join(errs...))
	}
	return nil
}
