// Helper module that builds etcd v3.7.0, the etcd kubeadm v1.37.2 asks for
// (`kubeadm config images list`: registry.k8s.io/etcd:3.7.0-0), for the kind node
// image (hack/kindnode.sh). The local control plane keeps etcd v3.6.16
// (hack/kube/etcd). NOT part of the main module.
module github.com/regen-dev/regen/hack/kindnode/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.7.0
