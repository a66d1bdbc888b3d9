package kube

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Diagnostics is what the collectors gathered from a namespace, before
// teardown: enough to say why a rollout failed without the cluster.
type Diagnostics struct {
	Namespace string
	Pods      []PodReport
	Events    []Event
	// Manifests are the rendered manifests that were applied.
	Manifests []byte
}

// PodReport is one pod's status: phase, node, unmet conditions (with their
// reasons: Unschedulable and the scheduler's message) and each container's
// waiting/terminated reason, plus its logs where the node serves them.
type PodReport struct {
	Name, Phase, Node string
	Conditions        []string // "PodScheduled=False Unschedulable: 0/2 nodes are available: …"
	Containers        []string // "executor: waiting CrashLoopBackOff: …", "executor: ready"
	Logs              map[string]string
	LogErrors         map[string]string // why a container's logs were not available (kwok serves none)
}

// Event is one core/v1 event, flattened.
type Event struct {
	Time                          time.Time
	Type, Reason, Object, Message string
	Count                         int32
}

// Collect gathers pod status, waiting reasons, pod logs (current and
// previous container, when available) and the namespace's events sorted by
// time. It never fails on a missing piece: what it could not get is recorded.
func (d *Deployer) Collect(ctx context.Context, ns string, manifests []byte) (*Diagnostics, error) {
	diag := &Diagnostics{Namespace: ns, Manifests: manifests}
	pods, err := d.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return diag, fmt.Errorf("collect %s: list pods: %w", ns, err)
	}
	slices.SortFunc(pods.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for i := range pods.Items {
		diag.Pods = append(diag.Pods, d.podReport(ctx, &pods.Items[i]))
	}
	evs, err := d.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return diag, fmt.Errorf("collect %s: list events: %w", ns, err)
	}
	for _, e := range evs.Items {
		diag.Events = append(diag.Events, Event{
			Time: eventTime(e), Type: e.Type, Reason: e.Reason, Count: e.Count,
			Object:  e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Message: strings.TrimSpace(e.Message),
		})
	}
	slices.SortStableFunc(diag.Events, func(a, b Event) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Object, b.Object), strings.Compare(a.Reason, b.Reason))
	})
	return diag, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

func (d *Deployer) podReport(ctx context.Context, p *corev1.Pod) PodReport {
	r := PodReport{Name: p.Name, Phase: string(p.Status.Phase), Node: p.Spec.NodeName, Logs: map[string]string{}, LogErrors: map[string]string{}}
	for _, c := range p.Status.Conditions {
		if c.Status == corev1.ConditionTrue {
			continue
		}
		s := string(c.Type) + "=" + string(c.Status)
		if c.Reason != "" {
			s += " " + c.Reason
		}
		if c.Message != "" {
			s += ": " + c.Message
		}
		r.Conditions = append(r.Conditions, s)
	}
	statuses := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		switch {
		case cs.State.Waiting != nil:
			r.Containers = append(r.Containers, fmt.Sprintf("%s: waiting %s: %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message))
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			r.Containers = append(r.Containers, fmt.Sprintf("%s: terminated %s (exit %d): %s", cs.Name, t.Reason, t.ExitCode, t.Message))
		case cs.Ready:
			r.Containers = append(r.Containers, cs.Name+": running, ready")
		default:
			r.Containers = append(r.Containers, cs.Name+": running, not ready")
		}
	}
	if p.Spec.NodeName == "" {
		return r // not scheduled: no logs to ask for
	}
	containers := append(slices.Clone(p.Spec.InitContainers), p.Spec.Containers...)
	for _, c := range containers {
		for _, previous := range []bool{false, true} {
			key := c.Name
			if previous {
				key += " (previous)"
			}
			lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			tail := int64(200)
			b, err := d.cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name, Previous: previous, TailLines: &tail}).DoRaw(lctx)
			cancel()
			if err != nil {
				r.LogErrors[key] = err.Error()
				continue
			}
			r.Logs[key] = string(b)
		}
	}
	return r
}

// Write prints the diagnostics as text to w.
func (g *Diagnostics) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "namespace %s: %d pods, %d events\n", g.Namespace, len(g.Pods), len(g.Events))
	for _, p := range g.Pods {
		node := p.Node
		if node == "" {
			node = "(not scheduled)"
		}
		fmt.Fprintf(&b, "pod %s: %s on %s\n", p.Name, p.Phase, node)
		for _, c := range p.Conditions {
			fmt.Fprintf(&b, "  condition %s\n", c)
		}
		for _, c := range p.Containers {
			fmt.Fprintf(&b, "  container %s\n", c)
		}
		for _, k := range sortedKeys(p.LogErrors) {
			fmt.Fprintf(&b, "  logs %s unavailable: %s\n", k, p.LogErrors[k])
		}
	}
	b.WriteString("events (oldest first):\n")
	for _, e := range g.Events {
		fmt.Fprintf(&b, "  %s %-7s %-20s %s: %s", e.Time.UTC().Format(time.RFC3339), e.Type, e.Reason, e.Object, e.Message)
		if e.Count > 1 {
			fmt.Fprintf(&b, " (x%d)", e.Count)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Save writes status.txt (Write's text), manifests.yaml and one file per
// container log under dir.
func (g *Diagnostics) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save diagnostics: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "status.txt"))
	if err != nil {
		return fmt.Errorf("save diagnostics: %w", err)
	}
	if err := g.Write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("save diagnostics: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save diagnostics: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), g.Manifests, 0o644); err != nil {
		return fmt.Errorf("save diagnostics: %w", err)
	}
	for _, p := range g.Pods {
		for _, k := range sortedKeys(p.Logs) {
			name := p.Name + "." + strings.NewReplacer(" ", "", "(", ".", ")", "").Replace(k) + ".log"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(p.Logs[k]), 0o644); err != nil {
				return fmt.Errorf("save diagnostics: %w", err)
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
