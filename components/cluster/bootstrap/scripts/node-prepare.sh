#!/usr/bin/env bash
# Prepares a node for kubeadm: kernel prerequisites, containerd 2.x with the systemd cgroup driver,
# and kubeadm/kubelet/kubectl pinned to one version and held, each from its apt repository (upstream
# or the stack's mirror). Idempotent: safe on every boot.
#
# bootstrap.env (written by cloud-init, rendered by nodeSoftware.ts): KUBERNETES_APT_SOURCE,
# KUBERNETES_PACKAGE_VERSION, CONTAINERD_APT_SOURCE, CONTAINERD_PACKAGE, CONTAINERD_PACKAGE_VERSION;
# optional APT_SIGNED_BY (key files cloud-init wrote; otherwise each repository's published key is
# downloaded), MIRROR_CA_FILE (a private CA to trust), NODE_HTTP_PROXY and NODE_NO_PROXY. cloud-init
# also wrote containerd's drop-in (conf.d), the registry mirror's hosts.toml files and the proxy's
# systemd drop-ins before this runs. ETC_DIR and BOOTSTRAP_DIR only exist for tests.
set -euo pipefail

ETC_DIR="${ETC_DIR:-/etc}"
BOOTSTRAP_DIR="${BOOTSTRAP_DIR:-${ETC_DIR}/kubernetes/bootstrap}"
# shellcheck source=/dev/null
. "${BOOTSTRAP_DIR}/bootstrap.env"
: "${KUBERNETES_APT_SOURCE:?}" "${KUBERNETES_PACKAGE_VERSION:?}"
: "${CONTAINERD_APT_SOURCE:?}" "${CONTAINERD_PACKAGE:?}" "${CONTAINERD_PACKAGE_VERSION:?}"

log() { echo "node-prepare: $*" >&2; }

# This script's own downloads (apt, curl) go through the proxy; nothing it starts inherits it
# (containerd and the kubelet get theirs from their systemd drop-ins).
if [ -n "${NODE_HTTP_PROXY:-}" ]; then
  export http_proxy="${NODE_HTTP_PROXY}" https_proxy="${NODE_HTTP_PROXY}" no_proxy="${NODE_NO_PROXY:-}"
fi

# Kernel modules and sysctls every CNI and kube-proxy rely on.
cat >"${ETC_DIR}/modules-load.d/kubernetes.conf" <<'MODULES'
overlay
br_netfilter
MODULES
modprobe overlay
modprobe br_netfilter
cat >"${ETC_DIR}/sysctl.d/90-kubernetes.conf" <<'SYSCTL'
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
SYSCTL
sysctl --system >/dev/null
swapoff -a
sed -i '/\sswap\s/s/^/#/' "${ETC_DIR}/fstab"

# A private CA first: apt, curl and containerd verify the mirrors against the system store.
if [ -n "${MIRROR_CA_FILE:-}" ]; then
  update-ca-certificates >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if "$@"; then return 0; fi
    log "attempt ${attempt} of '$*' failed; retrying"
    sleep $((attempt * 5))
  done
  log "giving up on: $*"
  return 1
}

# From the image's own sources (its distribution's archive, or the cloud's mirror of it).
retry apt-get update -q
retry apt-get install -y -q ca-certificates curl

# The distribution decides the containerd repository's path and suite (Docker's layout:
# <base>/<id> <codename> stable).
# shellcheck source=/dev/null
. "${ETC_DIR}/os-release"
: "${ID:?}" "${VERSION_CODENAME:?}"

keyrings="${ETC_DIR}/apt/keyrings"
mkdir -p "${keyrings}"
# fetch_key <url> <file>: a repository's published (armored) key, kept once downloaded.
fetch_key() {
  if [ ! -s "$2" ]; then
    retry curl -fsSL "$1" -o "$2.tmp"
    mv -f "$2.tmp" "$2"
  fi
}
if [ -n "${APT_SIGNED_BY:-}" ]; then
  kubernetes_keys="${APT_SIGNED_BY}"
  containerd_keys="${APT_SIGNED_BY}"
else
  kubernetes_keys="${keyrings}/kubernetes.asc"
  containerd_keys="${keyrings}/containerd.asc"
  fetch_key "${KUBERNETES_APT_SOURCE}Release.key" "${kubernetes_keys}"
  fetch_key "${CONTAINERD_APT_SOURCE}/${ID}/gpg" "${containerd_keys}"
fi
echo "deb [signed-by=${kubernetes_keys}] ${KUBERNETES_APT_SOURCE} /" \
  >"${ETC_DIR}/apt/sources.list.d/kubernetes.list"
echo "deb [signed-by=${containerd_keys}] ${CONTAINERD_APT_SOURCE}/${ID} ${VERSION_CODENAME} stable" \
  >"${ETC_DIR}/apt/sources.list.d/containerd.list"
# The repository's builds of one version carry a per-distribution suffix (2.3.4-1~ubuntu.24.04~noble).
cat >"${ETC_DIR}/apt/preferences.d/containerd.pref" <<PIN
Package: ${CONTAINERD_PACKAGE}
Pin: version ${CONTAINERD_PACKAGE_VERSION}~*
Pin-Priority: 1001
PIN

retry apt-get update -q
held=("${CONTAINERD_PACKAGE}" kubelet kubeadm kubectl)
apt-mark unhold "${held[@]}" >/dev/null 2>&1 || true
retry apt-get install -y -q --allow-downgrades "${CONTAINERD_PACKAGE}" \
  "kubelet=${KUBERNETES_PACKAGE_VERSION}" "kubeadm=${KUBERNETES_PACKAGE_VERSION}" "kubectl=${KUBERNETES_PACKAGE_VERSION}"
apt-mark hold "${held[@]}"

# containerd: its defaults (which import conf.d/*.toml, where cloud-init wrote the cluster's settings:
# systemd cgroups, and with a mirror the sandbox image and registry hosts). The package's own
# config.toml disables the CRI plugin, so it is replaced.
containerd config default >"${ETC_DIR}/containerd/config.toml"
systemctl daemon-reload
systemctl restart containerd
systemctl enable containerd
# Read whole before grep: with pipefail, grep -q leaving early would fail the pipe by SIGPIPE.
merged_config="$(containerd config dump)"
if ! grep -q 'SystemdCgroup = true' <<<"${merged_config}"; then
  log "containerd's merged configuration does not use systemd cgroups; refusing to run the kubelet with mismatched cgroup drivers"
  exit 1
fi
systemctl enable kubelet
log "node prepared: ${CONTAINERD_PACKAGE} ${CONTAINERD_PACKAGE_VERSION}, Kubernetes ${KUBERNETES_PACKAGE_VERSION}"
