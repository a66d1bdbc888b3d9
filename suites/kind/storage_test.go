package kind_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The dev overlay's PersistentVolumeClaim (components/nightly's reports volume).
const devPVC = "regen-reports"

// The provisioner image hack/kindnode.sh builds from the Go module.
const provisionerImage = "regen.local/local-path-provisioner:v0.0.30"

// expectLocalPathStorage checks kind's default storage in the node image
// (hack/kindnode.sh: kind's own manifest, our local-path-provisioner build):
// the default StorageClass `standard` is backed by rancher.io/local-path, the
// provisioner runs from the image built offline, and the dev overlay's PVC
// binds once a pod uses it. A pod writes a token to the volume, a second pod
// reads it back, and the token is in the directory the provisioner made on the
// node. Deleting the claim removes the volume and that directory (the helper
// image's teardown), so the cluster is left as the overlay made it but for
// that one claim.
func expectLocalPathStorage(ctx context.Context, cs kubernetes.Interface, ns string) {
	start := time.Now()
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "standard", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred(), "kind's default StorageClass")
	Expect(sc.Provisioner).To(Equal("rancher.io/local-path"), "kind's storage manifest from the node image, not its legacy host-path class")
	Expect(sc.Annotations).To(HaveKeyWithValue("storageclass.kubernetes.io/is-default-class", "true"))
	Expect(sc.VolumeBindingMode).To(HaveValue(Equal(storagev1.VolumeBindingWaitForFirstConsumer)))

	var helper string
	Eventually(func(g Gomega) {
		d, err := cs.AppsV1().Deployments("local-path-storage").Get(ctx, "local-path-provisioner", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Status.ReadyReplicas).To(BeNumerically(">=", 1), "local-path-provisioner Ready")
		c := d.Spec.Template.Spec.Containers[0]
		g.Expect(c.Image).To(Equal(provisionerImage))
		i := slices.Index(c.Command, "--helper-image")
		g.Expect(i).To(BeNumerically(">=", 0), "the provisioner's --helper-image: %v", c.Command)
		g.Expect(len(c.Command)).To(BeNumerically(">", i+1))
		helper = c.Command[i+1]
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	Expect(helper).To(HavePrefix("regen.local/local-path-helper:"), "the helper image built offline")

	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, devPVC, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred(), "the dev overlay's PVC")
	Expect(pvc.Spec.StorageClassName).To(HaveValue(Equal("standard")), "the overlay names no class: admission filled in the default one")

	token := fmt.Sprintf("regen-kind-%d", time.Now().UnixNano())
	runPod(ctx, cs, ns, helper, "regen-pvc-write", `printf '%s\n' "$TOKEN" >/data/probe`, token)
	Expect(runPod(ctx, cs, ns, helper, "regen-pvc-read", `read -r got </data/probe; echo "read $got"; [ "$got" = "$TOKEN" ]`, token)).
		To(ContainSubstring("read "+token), "a second pod reads what the first wrote")

	pvc, err = cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, devPVC, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound))
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(pv.Annotations).To(HaveKeyWithValue("pv.kubernetes.io/provisioned-by", "rancher.io/local-path"))
	var dir string
	switch {
	case pv.Spec.HostPath != nil:
		dir = pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		dir = pv.Spec.Local.Path
	}
	Expect(dir).To(HavePrefix("/var/local-path-provisioner/"), "kind's path for local-path volumes in the node")
	Expect(nodeExec(ctx, "cat", dir+"/probe")).To(Equal(token+"\n"), "the token is on the node's disk, in the volume's directory")
	AddReportEntry("PVC bound, written and read by two pods", time.Since(start).Round(time.Millisecond).String())

	// Reclaim policy Delete: the provisioner's teardown helper removes the directory.
	start = time.Now()
	Expect(cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, devPVC, metav1.DeleteOptions{})).To(Succeed())
	Eventually(func() bool {
		_, err := cs.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(BeTrue(), "PV %s deleted", pv.Name)
	Expect(nodeExec(ctx, "sh", "-c", "test -e "+dir+" && echo present || echo absent")).To(Equal("absent\n"), "the teardown helper removed %s", dir)
	AddReportEntry("PVC deleted, volume torn down", time.Since(start).Round(time.Millisecond).String())
}

// runPod runs script in a pod of image with the dev PVC at /data and TOKEN in
// its environment, waits for it to succeed, deletes it and returns its log.
// It runs as the restricted Pod Security profile asks.
func runPod(ctx context.Context, cs kubernetes.Interface, ns, image, name, script, token string) string {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/name": name}},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  new(false),
			TerminationGracePeriodSeconds: new(int64(0)),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: new(true), RunAsUser: new(int64(65534)), RunAsGroup: new(int64(65534)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "probe", Image: image, ImagePullPolicy: corev1.PullNever,
				Command:      []string{"/bin/sh", "-c", "set -eu; " + script},
				Env:          []corev1.EnvVar{{Name: "TOKEN", Value: token}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: devPVC},
			}}},
		},
	}
	_, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "create pod %s", name)
	var phase corev1.PodPhase
	Eventually(func(g Gomega) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		phase = p.Status.Phase
		g.Expect(phase).To(BeElementOf(corev1.PodSucceeded, corev1.PodFailed), "pod %s: %s %v", name, phase, p.Status.Conditions)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
	logs, err := cs.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(phase).To(Equal(corev1.PodSucceeded), "pod %s: %s", name, logs)
	Expect(cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed())
	Eventually(func() bool {
		_, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue(), "pod %s deleted", name)
	return string(logs)
}

// nodeExec runs a command in the kind node's container and returns its output.
func nodeExec(ctx context.Context, args ...string) string {
	docker := "/usr/bin/docker"
	if _, err := os.Stat(docker); err != nil {
		docker = "docker"
	}
	out, err := exec.CommandContext(ctx, docker, append([]string{"exec", clusterName + "-control-plane"}, args...)...).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker exec %s: %s", strings.Join(args, " "), out)
	return string(out)
}
