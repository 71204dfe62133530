#!/usr/bin/env bash
# Self-test of toolchain.sh + apiserver.sh against the real binaries:
#   1. toolchain.sh (etcd, kubeadm, kube-apiserver of the pinned version)
#   2. a throwaway PKI:      kubeadm init phase certs all
#   3. the apiserver manifest: kubeadm init phase control-plane apiserver
#   4. kubeconfigs:          kubeadm init phase kubeconfig admin / super-admin
#   5. apiserver.sh start <pki> <state> <manifest>, then kubectl against it
#   6. the built-in flag set of apiserver.sh equals the rendered manifest's (after rewrites)
#   7. apiserver.sh stop, and both pids are gone
# Everything lives in one temp dir (removed at the end; SELFTEST_KEEP=1 keeps it).
#
# Keeping kubeadm away from the host: `kubeadm init phase <x>` runs no preflight (only
# `kubeadm init` and `kubeadm init phase preflight` do), and
#   - certificatesDir (ClusterConfiguration) and --cert-dir  put the PKI in the temp dir,
#   - --kubernetes-dir <tmp>   puts manifests/ under the temp dir instead of /etc/kubernetes,
#   - --kubeconfig-dir <tmp>   puts admin.conf / super-admin.conf in the temp dir,
#   - kubernetesVersion        set explicitly, so kubeadm does not look up "stable-1" online,
#   - nodeRegistration.criSocket set explicitly, so kubeadm does not probe for a CRI socket,
#   - nodeRegistration.name    set explicitly, so the host name does not leak into certificates.
# Env: APISERVER_PORT (default 6443), E2E_CACHE_DIR / KUBE_BIN_DIR (see toolchain.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
log() { printf '[selftest] %s\n' "$*" >&2; }
die() { printf '[selftest] FAIL: %s\n' "$*" >&2; exit 1; }
T_START="$SECONDS"

eval "$(cd "$REPO_ROOT" && npx --no-install tsx e2e/lib/print-versions.ts 2>/dev/null)"
: "${KUBERNETES_VERSION:?print-versions.ts did not provide KUBERNETES_VERSION}"
PORT="${APISERVER_PORT:-6443}"
export APISERVER_PORT="$PORT"

# --- 1. binaries -----------------------------------------------------------------------------
t0="$SECONDS"
BIN="$("$HERE/toolchain.sh" | tail -n 1)"
export E2E_KUBERNETES_BIN_DIR="$BIN"
export PATH="$BIN:$PATH"
log "toolchain ready in $(( SECONDS - t0 ))s: $BIN"
command -v kubectl >/dev/null || die "kubectl is not on PATH (build k8s.io/kubernetes/cmd/kubectl the way toolchain.sh builds kubeadm)"

WORK="$(mktemp -d -t k8s-selftest.XXXXXX)"
STATE="$WORK/state"
cleanup() {
  local rc=$?
  if [[ -d "$STATE" ]]; then "$HERE/apiserver.sh" stop "$STATE" || rc=1; fi
  if [[ "${SELFTEST_KEEP:-0}" == 1 || "$rc" -ne 0 ]]; then
    log "work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT

run() { # label cmd...: runs, shows the output on failure
  local label="$1" out rc=0
  shift
  out="$("$@" 2>&1)" || rc=$?
  if [[ "$rc" -ne 0 ]]; then
    printf '%s\n' "$out" | tail -n 30 >&2
    die "$label failed (exit $rc): $*"
  fi
  printf '%s\n' "$out" >"$WORK/$label.log"
}

# --- 2-4. kubeadm phases, all inside $WORK ---------------------------------------------------
CONFIG="$WORK/kubeadm.yaml"
cat >"$CONFIG" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
  bindPort: $PORT
nodeRegistration:
  name: e2e-selftest
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v$KUBERNETES_VERSION
clusterName: e2e-selftest
controlPlaneEndpoint: 127.0.0.1:$PORT
certificatesDir: $WORK/pki
networking:
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
EOF

t0="$SECONDS"
run kubeadm-version kubeadm version -o short
[[ "$(cat "$WORK/kubeadm-version.log")" == "v$KUBERNETES_VERSION" ]] \
  || die "kubeadm reports $(cat "$WORK/kubeadm-version.log"), want v$KUBERNETES_VERSION"
run certs kubeadm init phase certs all --config "$CONFIG"
run manifest kubeadm init phase control-plane apiserver --config "$CONFIG" --kubernetes-dir "$WORK"
run kubeconfig-admin kubeadm init phase kubeconfig admin --config "$CONFIG" --kubeconfig-dir "$WORK"
run kubeconfig-super-admin kubeadm init phase kubeconfig super-admin --config "$CONFIG" --kubeconfig-dir "$WORK"
MANIFEST="$WORK/manifests/kube-apiserver.yaml"
for f in "$WORK/pki/ca.crt" "$WORK/pki/etcd/server.crt" "$MANIFEST" "$WORK/admin.conf" "$WORK/super-admin.conf"; do
  [[ -s "$f" ]] || die "kubeadm did not write $f"
done
log "kubeadm phases (certs, manifest, kubeconfigs) in $(( SECONDS - t0 ))s"

# --- 6 (early, no processes needed). The built-in flag set matches kubeadm's rendering --------
export ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380   # only for printing; nothing listens
"$HERE/apiserver.sh" flags "$WORK/pki" "$WORK/flags-a" "$MANIFEST" 2>/dev/null | sort >"$WORK/flags.manifest"
"$HERE/apiserver.sh" flags "$WORK/pki" "$WORK/flags-b" 2>/dev/null | sort >"$WORK/flags.builtin"
unset ETCD_CLIENT_PORT ETCD_PEER_PORT
if ! diff -u "$WORK/flags.manifest" "$WORK/flags.builtin" >&2; then
  die "apiserver.sh's built-in flags differ from kubeadm's manifest (- manifest, + built-in)"
fi
log "built-in kube-apiserver flags equal the rendered manifest's ($(wc -l <"$WORK/flags.manifest") flags)"

# --- 5. start, talk, stop -------------------------------------------------------------------
t0="$SECONDS"
"$HERE/apiserver.sh" start "$WORK/pki" "$STATE" "$MANIFEST"
log "apiserver.sh start took $(( SECONDS - t0 ))s"
ADMIN="$WORK/admin.conf"
SUPER="$WORK/super-admin.conf"

run readyz kubectl --kubeconfig "$ADMIN" get --raw /readyz
[[ "$(cat "$WORK/readyz.log")" == ok ]] || die "/readyz answered: $(cat "$WORK/readyz.log")"
log "kubectl get --raw /readyz: $(cat "$WORK/readyz.log")"

# admin.conf's user is in group kubeadm:cluster-admins, which `kubeadm init` binds to
# cluster-admin (with super-admin.conf, group system:masters) once the API is up. No `kubeadm
# init` runs here, so the binding is made the same way; until then admin.conf is forbidden.
if kubectl --kubeconfig "$ADMIN" get namespaces >"$WORK/ns-before.log" 2>&1; then
  die "admin.conf could list namespaces before kubeadm:cluster-admins was bound (unexpected)"
fi
grep -q Forbidden "$WORK/ns-before.log" || { cat "$WORK/ns-before.log" >&2; die "unexpected error before the binding"; }
run bind kubectl --kubeconfig "$SUPER" create clusterrolebinding kubeadm:cluster-admins \
  --clusterrole=cluster-admin --group=kubeadm:cluster-admins
run namespaces kubectl --kubeconfig "$ADMIN" get namespaces
for ns in default kube-system kube-public kube-node-lease; do
  grep -q "^$ns " "$WORK/namespaces.log" || die "namespace $ns missing: $(cat "$WORK/namespaces.log")"
done
log "kubectl get namespaces:"
sed 's/^/[selftest]   /' "$WORK/namespaces.log" >&2

run server-version kubectl --kubeconfig "$ADMIN" version -o json
server_version="$(jq -r .serverVersion.gitVersion "$WORK/server-version.log")"
[[ "$server_version" == "v$KUBERNETES_VERSION" ]] || die "server reports $server_version, want v$KUBERNETES_VERSION"
log "server version: $server_version (client $(jq -r .clientVersion.gitVersion "$WORK/server-version.log"))"

# --- 7. stop --------------------------------------------------------------------------------
# shellcheck disable=SC1091
source "$STATE/endpoints.env"
"$HERE/apiserver.sh" stop "$STATE"
for pid in "$ETCD_PID" "$KUBE_APISERVER_PID"; do
  if [[ -d "/proc/$pid" ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
    die "pid $pid still runs after stop"
  fi
done
curl -s --max-time 2 -o /dev/null "https://127.0.0.1:$PORT/readyz" -k && die "something still answers on 127.0.0.1:$PORT"
log "stopped; both pids gone"
log "PASS in $(( SECONDS - T_START ))s"
