package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TimeoutError is a wait that ran past its limit: Phase names the wait
// (control plane start, apply, rollout, cleanup…), Detail what was last seen.
type TimeoutError struct {
	Phase  string
	After  time.Duration
	Detail string
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("%s timed out after %v", e.Phase, e.After)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// poll calls f every interval until it reports done, returns an error, or ctx
// ends; then it returns ctx's cause (a *TimeoutError when the ctx was made
// with one) joined with the last detail f gave.
func poll(ctx context.Context, interval time.Duration, f func(context.Context) (done bool, detail string, err error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := ""
	for {
		done, detail, err := f(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		last = detail
		select {
		case <-ctx.Done():
			cause := context.Cause(ctx)
			if te, ok := errors.AsType[*TimeoutError](cause); ok && last != "" {
				cp := *te
				cp.Detail = last
				return &cp
			}
			if last != "" {
				return fmt.Errorf("%w (last seen: %s)", cause, last)
			}
			return cause
		case <-t.C:
		}
	}
}

func waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, "", fmt.Errorf("wait for %s: %w", url, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error(), nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status, nil
	})
}

func waitReady(ctx context.Context, cs kubernetes.Interface) error {
	return poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		return string(body) == "ok", string(body), nil
	})
}

func waitNodesReady(ctx context.Context, cs kubernetes.Interface, nodes []Node) error {
	for _, n := range nodes {
		err := poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			return nodeReady(ctx, cs, n.Name)
		})
		if err != nil {
			return fmt.Errorf("node %s ready: %w", n.Name, err)
		}
	}
	return nil
}

// nodeReady is a poll step: whether node name is Ready, and what was seen.
func nodeReady(ctx context.Context, cs kubernetes.Interface, name string) (bool, string, error) {
	got, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err.Error(), nil
	}
	for _, c := range got.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue, "Ready=" + string(c.Status) + " " + c.Reason + ": " + c.Message, nil
		}
	}
	return false, "no Ready condition yet", nil
}

// waitDefaultServiceAccount waits for the controller manager to have created
// the default namespace's ServiceAccount (proof that its controllers run).
func waitDefaultServiceAccount(ctx context.Context, cs kubernetes.Interface) error {
	return poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
}
