#!/usr/bin/env bash
# A real single-node Kubernetes control plane on loopback, made from kubeadm's own phases:
#
#   cluster.sh start <dir>   kubeadm writes the certificates, kubeconfigs and static pod manifests
#                            into <dir> (nothing under /etc/kubernetes); apiserver.sh starts etcd,
#                            kube-apiserver and kube-controller-manager from them; the
#                            kubeadm:cluster-admins binding `kubeadm init` makes is made the same
#                            way, so <dir>/admin.conf is kubeadm's cluster-admin kubeconfig.
#                            stdout: the path of admin.conf (last line).
#   cluster.sh stop <dir>    stops the three by their pids (apiserver.sh stop).
#
# <dir> must be missing or empty at start. Afterwards it holds kubeadm.yaml (certificatesDir = <dir>/pki),
# kubeadm-node.yaml (the same config as on a node, for the manifests: their paths are
# /etc/kubernetes/..., rewritten by apiserver.sh), pki/, admin.conf, super-admin.conf,
# controller-manager.conf, manifests/, state/ (apiserver.sh's logs, pids and endpoints.env).
# No kube-scheduler and no kubelet: nothing runs pods.
#
# Keeping kubeadm away from the host (nothing written outside <dir>, /etc/kubernetes never created):
#   - `kubeadm init phase <x>` runs no preflight (only `kubeadm init` and `init phase preflight` do);
#   - certificates: ClusterConfiguration.certificatesDir = <dir>/pki (kubeadm refuses --cert-dir
#     together with --config);
#   - manifests: `init phase control-plane all --dry-run` writes them into $KUBEADM_INIT_DRYRUN_DIR
#     instead of /etc/kubernetes/manifests; rendered from kubeadm-node.yaml (no certificatesDir), so
#     their paths are a node's and apiserver.sh's rewrites are exercised;
#   - kubeconfigs: --kubeconfig-dir <dir>;
#   - kubernetesVersion set (no lookup of "stable-1" online), criSocket set (no probe for a runtime),
#     nodeRegistration.name set (the host name stays out of the certificates).
# localAPIEndpoint.advertiseAddress is left unset: kubeadm treats a loopback advertise address as
# "pick the global unicast address of lo" and fails. It takes the default-route address instead;
# the API server certificate still holds 127.0.0.1 (from controlPlaneEndpoint), apiserver.sh
# rewrites --advertise-address to 127.0.0.1, and controller-manager.conf (which kubeadm points at
# the advertise address) is pointed at 127.0.0.1 here.
#
# Environment:
#   APISERVER_PORT          kube-apiserver port (default: a free port)
#   E2E_KUBERNETES_BIN_DIR  dir with etcd, kubeadm, kube-apiserver, kube-controller-manager
#                           (default: the last line of toolchain.sh)
#   KUBE_CLUSTER_NAME       ClusterConfiguration.clusterName (default e2e)
#   KUBECTL                 kubectl to use (default: kubectl on PATH)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start <dir> | stop <dir>"; }

cmd_stop() { # dir
  [[ -d "$1/state" ]] || { log "no $1/state: nothing to stop"; return 0; }
  "$HERE/apiserver.sh" stop "$1/state"
}

STARTING_DIR=""
stop_on_failure() {
  local rc=$?
  [[ "$rc" -ne 0 && -n "$STARTING_DIR" ]] && { cmd_stop "$STARTING_DIR" >&2 || true; }
  return "$rc"
}

write_config() { # file port [certificatesDir]
  cat >"$1" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  bindPort: $2
nodeRegistration:
  name: ${KUBE_CLUSTER_NAME:-e2e}-control-plane
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v$KUBERNETES_VERSION
clusterName: ${KUBE_CLUSTER_NAME:-e2e}
controlPlaneEndpoint: 127.0.0.1:$2
networking:
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
EOF
  if [[ -n "${3:-}" ]]; then printf 'certificatesDir: %s\n' "$3" >>"$1"; fi
}

cmd_start() { # dir
  local dir="$1" bin port t0 kubectl step_log
  if [[ -e "$dir" ]] && [[ -n "$(ls -A "$dir")" ]]; then
    die "$dir is not empty; give a new directory (stop and remove an old one first)"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  eval "$(cd "$REPO_ROOT" && npx --no-install tsx e2e/lib/print-versions.ts 2>/dev/null)"
  : "${KUBERNETES_VERSION:?print-versions.ts did not provide KUBERNETES_VERSION}"
  bin="${E2E_KUBERNETES_BIN_DIR:-$("$HERE/toolchain.sh" | tail -n 1)}"
  local name
  for name in etcd kubeadm kube-apiserver kube-controller-manager; do
    [[ -x "$bin/$name" ]] || die "no $name in $bin (run e2e/kubernetes/toolchain.sh)"
  done
  export E2E_KUBERNETES_BIN_DIR="$bin"
  kubectl="${KUBECTL:-$(command -v kubectl || true)}"
  [[ -n "$kubectl" ]] || die "kubectl is not on PATH (set KUBECTL)"
  port="${APISERVER_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  export APISERVER_PORT="$port"
  step_log="$dir/kubeadm.log"

  # On a failure after a start, stop whatever was started.
  STARTING_DIR="$dir"
  trap stop_on_failure EXIT

  t0="$SECONDS"
  write_config "$dir/kubeadm.yaml" "$port" "$dir/pki"
  write_config "$dir/kubeadm-node.yaml" "$port"
  {
    "$bin/kubeadm" init phase certs all --config "$dir/kubeadm.yaml"
    local kubeconfig
    for kubeconfig in admin super-admin controller-manager; do
      "$bin/kubeadm" init phase kubeconfig "$kubeconfig" --config "$dir/kubeadm.yaml" --kubeconfig-dir "$dir"
    done
    mkdir -p "$dir/manifests"
    KUBEADM_INIT_DRYRUN_DIR="$dir/manifests" \
      "$bin/kubeadm" init phase control-plane all --config "$dir/kubeadm-node.yaml" --dry-run
  } >"$step_log" 2>&1 || { tail -n 30 "$step_log" >&2; die "a kubeadm phase failed (log: $step_log)"; }
  local f
  for f in pki/ca.crt admin.conf super-admin.conf controller-manager.conf \
    manifests/kube-apiserver.yaml manifests/kube-controller-manager.yaml; do
    [[ -s "$dir/$f" ]] || die "kubeadm did not write $dir/$f (log: $step_log)"
  done
  # kubeadm points controller-manager.conf at the node's own address (localAPIEndpoint, the host's
  # default-route address here), not at controlPlaneEndpoint; the server listens on loopback only.
  sed -i -E "s#^( *server: ).*#\1https://127.0.0.1:$port#" "$dir/controller-manager.conf"
  grep -q "server: https://127.0.0.1:$port\$" "$dir/controller-manager.conf" ||
    die "could not point $dir/controller-manager.conf at https://127.0.0.1:$port"
  log "kubeadm phases (certs, kubeconfigs, manifests) in $(( SECONDS - t0 ))s"

  "$HERE/apiserver.sh" start "$dir/pki" "$dir/state" "$dir/manifests/kube-apiserver.yaml"
  # `kubeadm init` binds admin.conf's group to cluster-admin once the API is up; done the same way.
  "$kubectl" --kubeconfig "$dir/super-admin.conf" create clusterrolebinding kubeadm:cluster-admins \
    --clusterrole=cluster-admin --group=kubeadm:cluster-admins >>"$step_log" 2>&1 ||
    { tail -n 5 "$step_log" >&2; die "could not bind kubeadm:cluster-admins"; }
  "$HERE/apiserver.sh" start-controller-manager "$dir/pki" "$dir/state" "$dir/controller-manager.conf" \
    "$dir/manifests/kube-controller-manager.yaml"

  # The controller-manager works once its service-account controller made `default` in default.
  t0="$SECONDS"
  until "$kubectl" --kubeconfig "$dir/admin.conf" -n default get serviceaccount default >/dev/null 2>&1; do
    (( SECONDS - t0 < 60 )) || die "kube-controller-manager made no ServiceAccount default/default within 60s (log: $dir/state/kube-controller-manager.log)"
    sleep 0.5
  done
  log "kube-controller-manager's controllers work (ServiceAccount default/default after $(( SECONDS - t0 ))s)"
  trap - EXIT
  log "control plane up on https://127.0.0.1:$port; stop with: $0 stop $dir"
  printf '%s\n' "$dir/admin.conf"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || usage; cmd_start "$2" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  *) usage ;;
esac
