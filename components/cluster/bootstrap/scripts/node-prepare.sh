#!/usr/bin/env bash
# Prepares a node for kubeadm: kernel prerequisites, containerd with the systemd cgroup driver,
# and kubeadm/kubelet/kubectl pinned to one version and held. Idempotent: safe on every boot.
# Reads KUBERNETES_VERSION and KUBERNETES_APT_MINOR from the environment file cloud-init writes.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/kubernetes/bootstrap/bootstrap.env
: "${KUBERNETES_VERSION:?}" "${KUBERNETES_APT_MINOR:?}"

log() { echo "node-prepare: $*" >&2; }

# Kernel modules and sysctls every CNI and kube-proxy rely on.
cat >/etc/modules-load.d/kubernetes.conf <<'MODULES'
overlay
br_netfilter
MODULES
modprobe overlay
modprobe br_netfilter
cat >/etc/sysctl.d/90-kubernetes.conf <<'SYSCTL'
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
SYSCTL
sysctl --system >/dev/null
swapoff -a
sed -i '/\sswap\s/s/^/#/' /etc/fstab

export DEBIAN_FRONTEND=noninteractive
apt_retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if "$@"; then return 0; fi
    log "attempt ${attempt} of '$*' failed; retrying"
    sleep $((attempt * 5))
  done
  log "giving up on: $*"
  return 1
}

apt_retry apt-get update -q
apt_retry apt-get install -y -q apt-transport-https ca-certificates curl gpg containerd

# containerd: systemd cgroups, matching the kubelet's cgroupDriver.
mkdir -p /etc/containerd
containerd config default >/etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
if ! grep -q 'SystemdCgroup = true' /etc/containerd/config.toml; then
  log "containerd's default config has no SystemdCgroup switch to turn on; refusing to run the kubelet with mismatched cgroup drivers"
  exit 1
fi
systemctl restart containerd
systemctl enable containerd

keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
mkdir -p /etc/apt/keyrings
if [ ! -s "${keyring}" ]; then
  apt_retry curl -fsSL "https://pkgs.k8s.io/core:/stable:/${KUBERNETES_APT_MINOR}/deb/Release.key" -o /tmp/kubernetes-release.key
  gpg --dearmor --yes -o "${keyring}" /tmp/kubernetes-release.key
fi
echo "deb [signed-by=${keyring}] https://pkgs.k8s.io/core:/stable:/${KUBERNETES_APT_MINOR}/deb/ /" \
  >/etc/apt/sources.list.d/kubernetes.list
apt_retry apt-get update -q
package_version="${KUBERNETES_VERSION}-1.1"
apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
apt_retry apt-get install -y -q --allow-downgrades \
  "kubelet=${package_version}" "kubeadm=${package_version}" "kubectl=${package_version}"
apt-mark hold kubelet kubeadm kubectl
systemctl enable kubelet
log "node prepared for Kubernetes ${KUBERNETES_VERSION}"
