package kube

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kwokAnnotation marks the nodes kwok manages (kwok is started with
// --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake).
const kwokAnnotation = "kwok.x-k8s.io/node"

// GPUResource is the extended resource the gpu overlay requests.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// Node is a fake node kwok keeps Ready.
type Node struct {
	Name string
	// CPU and Memory are the allocatable capacity (defaults 32 and 256Gi).
	CPU, Memory string
	// GPUs > 0 adds nvidia.com/gpu capacity, the label
	// nvidia.com/gpu.present=true and the taint nvidia.com/gpu=present:NoSchedule,
	// as the NVIDIA GPU operator does on real GPU nodes.
	GPUs   int
	Labels map[string]string
}

// DefaultNodes is one CPU node and one GPU node.
func DefaultNodes() []Node {
	return []Node{{Name: "kwok-cpu-0"}, {Name: "kwok-gpu-0", GPUs: 1}}
}

// Object returns the Node API object for n.
func (n Node) Object() *corev1.Node {
	cpu, mem := n.CPU, n.Memory
	if cpu == "" {
		cpu = "32"
	}
	if mem == "" {
		mem = "256Gi"
	}
	labels := map[string]string{
		"kubernetes.io/hostname": n.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"type":                   "kwok",
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(cpu),
		corev1.ResourceMemory:           resource.MustParse(mem),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("500Gi"),
	}
	var taints []corev1.Taint
	if n.GPUs > 0 {
		labels["nvidia.com/gpu.present"] = "true"
		capacity[GPUResource] = *resource.NewQuantity(int64(n.GPUs), resource.DecimalSI)
		taints = append(taints, corev1.Taint{Key: string(GPUResource), Value: "present", Effect: corev1.TaintEffectNoSchedule})
	}
	maps.Copy(labels, n.Labels)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.Name,
			Labels:      labels,
			Annotations: map[string]string{kwokAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Phase:       corev1.NodeRunning,
		},
	}
}

// CreateNodes registers the fake nodes; kwok picks them up by annotation and
// makes them Ready.
func CreateNodes(ctx context.Context, cs kubernetes.Interface, nodes []Node) error {
	for _, n := range nodes {
		if _, err := cs.CoreV1().Nodes().Create(ctx, n.Object(), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
	}
	return nil
}

// DeleteNode removes a fake node (to show what a pod does without it).
func DeleteNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	if err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("delete node %s: %w", name, err)
	}
	return nil
}
