//go:build !regenfast

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/kube"
)

const deployUsage = `Usage: regen deploy render   --env dev|prod|gpu [--dir kustomize] [-o FILE]
       regen deploy validate --env dev|prod|gpu|all [--dir kustomize]
       regen deploy apply  --env E [--kubeconfig K] [--namespace N] [--run-id R] [--rollout-timeout D] [--fake-volumes]
       regen deploy delete --env E [--kubeconfig K] [--namespace N]

Render and check regen-executor's Kustomize environments, with no cluster:

  render    build <dir>/overlays/<env> in-process (kustomize's legacy order)
            and print the manifests; deprecated kustomization fields fail.
  validate  render, decode every object strictly into its Kubernetes type
            (unknown fields fail) and check the environment's invariants:
            probes on 8188 with a startupProbe, non-root, read-only root FS,
            selector = pod labels, Recreate with 1 replica (unless an HPA),
            GPU limit = request (gpu), pinned images and a NetworkPolicy
            (prod, gpu).

Deploy to the cluster of a kubeconfig (--kubeconfig, else $KUBECONFIG,
else ~/.kube/config; its current context):

  apply     render, create the namespace (default: a fresh
            regen-<env>-<run id>-xxxxx labelled with the run id), server-side
            apply every object (field manager "regen") and wait for the
            rollout. On failure print pod status, waiting reasons and events;
            nothing is deleted (regen deploy delete cleans up).
            --fake-volumes binds each claim to a hostPath volume, for a
            control plane with no storage provisioner (hack/controlplane.sh).
  delete    delete --namespace N, or every namespace regen deployed for
            --env E in that cluster, and wait until they are gone.
`

func deployCommand() command {
	return command{summary: "render, validate, apply and delete the Kubernetes environments (kustomize/)", run: runDeploy}
}

type deployFlags struct {
	env, dir, out string
	// apply / delete
	kubeconfig, namespace, runID string
	rollout                      time.Duration
	fakeVolumes                  bool
}

func runDeploy(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.Err, deployUsage)
		return &usageError{msg: "deploy needs an action: render, validate, apply or delete", hint: "regen deploy validate --env all"}
	}
	action := args[0]
	switch action {
	case "-h", "--help", "help":
		fmt.Fprint(s.Out, deployUsage+examplesSection("deploy")+"\nFlags: regen deploy ACTION -h\n")
		return nil
	case "render", "validate", "apply", "delete":
	default:
		return &usageError{msg: fmt.Sprintf("unknown deploy action %q (want render, validate, apply or delete)", action), hint: "regen deploy -h"}
	}
	var f deployFlags
	fs := newFlagSet("deploy "+action, s)
	const envs = "an overlay under <dir>/overlays (dev, prod, gpu, …)"
	if action == "validate" {
		fs.StringVar(&f.env, "env", "all", "environment: "+envs+", or all of them")
	} else {
		fs.StringVar(&f.env, "env", "", "environment: "+envs)
	}
	fs.StringVar(&f.dir, "dir", deploy.DefaultDir, "kustomize root (holds base/, components/, overlays/)")
	if action == "render" {
		fs.StringVar(&f.out, "o", "", "write the manifests to this file instead of stdout")
	}
	if action == "apply" || action == "delete" {
		fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
		fs.StringVar(&f.namespace, "namespace", "", "namespace (apply: default a fresh one; delete: default every regen namespace of --env)")
	}
	if action == "apply" {
		fs.StringVar(&f.runID, "run-id", "", "run id for the namespace and labels (default the current UTC time)")
		fs.DurationVar(&f.rollout, "rollout-timeout", 0, "rollout timeout (default per environment: dev 2m, prod 5m, gpu 10m)")
		fs.BoolVar(&f.fakeVolumes, "fake-volumes", false, "bind each PVC to a hostPath PV (clusters with no storage provisioner)")
	}
	fs.Usage = func() { fmt.Fprint(fs.Output(), deployUsage+"\nFlags:\n"); fs.PrintDefaults() }
	if err := parseFlags(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), hint: "regen deploy " + action + " -h"}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("deploy %s: unexpected argument %q", action, fs.Arg(0)), hint: "regen deploy " + action + " -h"}
	}
	if f.env == "" {
		envs, _ := deploy.Overlays(f.dir)
		return &usageError{msg: "deploy " + action + " needs --env (" + strings.Join(envs, ", ") + ")", hint: "regen deploy " + action + " --env dev"}
	}
	switch action {
	case "render":
		return deployRender(ctx, s, f)
	case "validate":
		return deployValidate(ctx, s, f)
	case "apply":
		return deployApply(ctx, s, f)
	default:
		return deployDelete(ctx, s, f)
	}
}

// clusterConfig loads the kubeconfig's current context, or says what is
// missing and what to do instead.
func clusterConfig(path string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("kubeconfig %s: %w. Point --kubeconfig or KUBECONFIG at a cluster, or bring up the local control plane (hack/controlplane.sh build; go test ./suites/e2e)", path, err)
		}
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", errors.New("no kubeconfig: KUBECONFIG is unset and ~/.kube/config does not exist. Point --kubeconfig or KUBECONFIG at a cluster (kind: kind create cluster; a GPU cluster: its kubeconfig), or bring up the local control plane (hack/controlplane.sh build; go test ./suites/e2e)")
		}
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, raw.CurrentContext, nil
}

func deployApply(ctx context.Context, s Streams, f deployFlags) error {
	dir, err := deploy.OverlayDir(f.dir, f.env)
	if err != nil {
		return &usageError{msg: err.Error(), hint: "regen deploy apply --env dev"}
	}
	cfg, kctx, err := clusterConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	manifests, err := deploy.RenderAndValidate(ctx, f.env, dir)
	if err != nil {
		return err
	}
	if f.runID == "" {
		f.runID = time.Now().UTC().Format("20060102-150405")
	}
	d, err := kube.NewDeployer(cfg, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "applying %s to %s (context %q)...\n", f.env, cfg.Host, kctx)
	rel, err := d.Deploy(ctx, kube.DeployOptions{
		Env: f.env, RunID: f.runID, Namespace: f.namespace, Manifests: manifests,
		Timeouts: kube.Timeouts{Rollout: f.rollout}, FakeVolumes: f.fakeVolumes,
	}, true)
	if err != nil {
		if rel.Diagnostics != nil {
			_ = rel.Diagnostics.Write(s.Err)
		}
		return fmt.Errorf("%w (namespace %s kept: regen deploy delete --env %s --namespace %s)", err, rel.Namespace, f.env, rel.Namespace)
	}
	fmt.Fprintf(s.Out, "%s deployed to namespace %s (applied in %v, rolled out in %v)\n", f.env, rel.Namespace,
		rel.Applied.Round(time.Millisecond), rel.RolledOut.Round(time.Millisecond))
	return nil
}

func deployDelete(ctx context.Context, s Streams, f deployFlags) error {
	if _, err := deploy.OverlayDir(f.dir, f.env); err != nil {
		return &usageError{msg: err.Error(), hint: "regen deploy delete --env dev"}
	}
	cfg, _, err := clusterConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	d, err := kube.NewDeployer(cfg, nil)
	if err != nil {
		return err
	}
	names := []string{f.namespace}
	if f.namespace == "" {
		list, err := d.Clientset().CoreV1().Namespaces().List(ctx, metav1.ListOptions{
			LabelSelector: kube.LabelManagedBy + "=" + kube.FieldManager + "," + kube.LabelEnv + "=" + f.env,
		})
		if err != nil {
			return fmt.Errorf("list regen namespaces: %w", err)
		}
		names = names[:0]
		for _, n := range list.Items {
			names = append(names, n.Name)
		}
		slices.Sort(names)
	}
	if len(names) == 0 {
		fmt.Fprintf(s.Out, "no namespace of regen's %s environment in %s\n", f.env, cfg.Host)
		return nil
	}
	var errs []error
	for _, ns := range names {
		if err := d.Teardown(ctx, ns, kube.DefaultTimeouts(f.env).Cleanup); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(s.Out, "deleted namespace %s\n", ns)
	}
	return errors.Join(errs...)
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
		var err error
		if envs, err = deploy.Overlays(f.dir); err != nil {
			return &usageError{msg: err.Error(), hint: "regen deploy validate --dir kustomize --env all"}
		}
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
