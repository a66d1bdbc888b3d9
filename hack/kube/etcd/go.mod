// Helper module that builds etcd v3.6 for the local control plane
// (Debian's etcd 3.4 lacks RequestWatchProgress, which kwok's watches need).
module github.com/regen-dev/regen/hack/kube/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.16
