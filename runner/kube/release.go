package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// DeployOptions describe one deploy of a rendered overlay.
type DeployOptions struct {
	Env       string // dev, prod, gpu: labels and default timeouts
	RunID     string // labels the namespace and every object
	Namespace string // empty: a fresh NamespaceName(Env, RunID)
	Manifests []byte // the rendered overlay (runner/deploy.Render)
	// Timeouts: zero fields take DefaultTimeouts(Env).
	Timeouts Timeouts
	// FakeVolumes binds each PVC to a hostPath PV made for it (local control
	// plane, no provisioner).
	FakeVolumes bool
	// DiagnosticsDir receives the collectors' output on failure (empty: not saved).
	DiagnosticsDir string
}

// Release is a deployed overlay.
type Release struct {
	Namespace string
	Env       string
	RunID     string
	// Diagnostics is set when the deploy failed (collected before teardown).
	Diagnostics *Diagnostics
	// Applied, RolledOut: how long each phase took.
	Applied, RolledOut time.Duration
}

// Deploy creates the namespace, server-side applies the manifests, and waits
// for the rollout. On failure it runs the collectors first, saves them when
// DiagnosticsDir is set and then tears the namespace down unless keep; the
// returned Release (never nil) carries the diagnostics.
func (d *Deployer) Deploy(ctx context.Context, o DeployOptions, keep bool) (*Release, error) {
	t := o.Timeouts
	def := DefaultTimeouts(o.Env)
	if t.Apply <= 0 {
		t.Apply = def.Apply
	}
	if t.Rollout <= 0 {
		t.Rollout = def.Rollout
	}
	if t.Cleanup <= 0 {
		t.Cleanup = def.Cleanup
	}
	ns := o.Namespace
	if ns == "" {
		ns = NamespaceName(o.Env, o.RunID)
	}
	rel := &Release{Namespace: ns, Env: o.Env, RunID: o.RunID}
	objs, err := Objects(o.Manifests, ns, map[string]string{LabelRunID: labelValue(o.RunID), LabelManagedBy: FieldManager})
	if err != nil {
		return rel, fmt.Errorf("deploy %s: %w", o.Env, err)
	}
	start := time.Now()
	err = func() error {
		actx, cancel := context.WithTimeoutCause(ctx, t.Apply, &TimeoutError{Phase: "apply", After: t.Apply})
		defer cancel()
		// A namespace the caller named may already exist: apply into it.
		if err := d.CreateNamespace(actx, ns, o.Env, o.RunID); err != nil && (o.Namespace == "" || !apierrors.IsAlreadyExists(errors.Unwrap(err))) {
			return err
		}
		if o.FakeVolumes {
			if err := d.ProvisionFakeVolumes(actx, objs, o.RunID); err != nil {
				return err
			}
		}
		if err := d.Apply(actx, objs, false); err != nil {
			if cause := context.Cause(actx); cause != nil {
				return errors.Join(err, cause)
			}
			return err
		}
		rel.Applied = time.Since(start)
		d.Log.Info("applied", "env", o.Env, "namespace", ns, "objects", len(objs), "took", rel.Applied.Round(time.Millisecond))
		if err := d.WaitRollout(ctx, objs, t.Rollout); err != nil {
			return err
		}
		rel.RolledOut = time.Since(start) - rel.Applied
		d.Log.Info("rolled out", "env", o.Env, "namespace", ns, "took", rel.RolledOut.Round(time.Millisecond))
		return nil
	}()
	if err == nil {
		return rel, nil
	}
	err = fmt.Errorf("deploy %s into %s: %w", o.Env, ns, err)
	// Collectors run before teardown, on a context that outlives a cancelled one.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	diag, cerr := d.Collect(cctx, ns, o.Manifests)
	rel.Diagnostics = diag
	if cerr != nil {
		err = errors.Join(err, cerr)
	}
	if o.DiagnosticsDir != "" && diag != nil {
		if serr := diag.Save(o.DiagnosticsDir); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if !keep {
		if terr := d.Teardown(cctx, ns, t.Cleanup); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	return rel, err
}
