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
# Keeping kubeadm away from the host (nothing is written outside the temp dir, /etc/kubernetes is
# never created):
#   - `kubeadm init phase <x>` runs no preflight (only `kubeadm init` and `init phase preflight` do);
#   - certs: ClusterConfiguration.certificatesDir = <tmp>/pki. `--cert-dir` cannot be used: kubeadm
#     refuses to mix --config with most flags ("can not mix '--config' with arguments [cert-dir]");
#     only config, dry-run, kubeconfig(-dir), node-name, rootfs, skip-*, v, ... may be mixed;
#   - manifest: `init phase control-plane apiserver` has no --kubernetes-dir flag and always writes
#     /etc/kubernetes/manifests, except with --dry-run, which writes the manifest into
#     $KUBEADM_INIT_DRYRUN_DIR (default /etc/kubernetes/tmp/kubeadm-init-dryrun*). So:
#     KUBEADM_INIT_DRYRUN_DIR=<tmp>/manifests kubeadm init phase control-plane apiserver --dry-run;
#     it is rendered from the same config minus certificatesDir, so its paths are /etc/kubernetes/pki
#     as on a real node, and apiserver.sh's certificate-dir rewrite is exercised;
#   - kubeconfigs: --kubeconfig-dir <tmp> (mixable with --config);
#   - kubernetesVersion set, so kubeadm does not look up "stable-1" online; criSocket set, so it
#     does not probe for a container runtime; nodeRegistration.name set, so the host name does
#     not end up in the certificates.
# localAPIEndpoint.advertiseAddress is NOT 127.0.0.1: kubeadm treats a loopback advertise address
# as "use the global unicast address on the lo interface" and fails here with "unable to select
# an IP from lo network interface". Left unset, kubeadm takes the default-route address; the
# apiserver certificate still holds 127.0.0.1 (from controlPlaneEndpoint) and apiserver.sh
# rewrites --advertise-address to 127.0.0.1.
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
toolchain_out="$("$HERE/toolchain.sh")" || die "toolchain.sh failed"
printf '%s\n' "$toolchain_out" | sed 's/^/[selftest]   /' >&2
BIN="$(tail -n 1 <<<"$toolchain_out")"
export E2E_KUBERNETES_BIN_DIR="$BIN"
export PATH="$BIN:$PATH"
log "toolchain ready in $(( SECONDS - t0 ))s: $BIN"
command -v kubectl >/dev/null || die "kubectl is not on PATH (build k8s.io/kubernetes/cmd/kubectl the way toolchain.sh builds kubeadm)"

ETC_K8S_EXISTED=0
[[ -e /etc/kubernetes ]] && ETC_K8S_EXISTED=1
WORK="$(mktemp -d -t k8s-selftest.XXXXXX)"
STATE="$WORK/state"
cleanup() {
  local rc=$?
  if [[ -f "$STATE/etcd.pid" || -f "$STATE/kube-apiserver.pid" ]]; then
    "$HERE/apiserver.sh" stop "$STATE" || rc=1
  fi
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
write_config() { # file [certificatesDir]
  cat >"$1" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
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
networking:
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
EOF
  if [[ -n "${2:-}" ]]; then printf 'certificatesDir: %s\n' "$2" >>"$1"; fi
}
CONFIG="$WORK/kubeadm.yaml"            # certificates in $WORK/pki
NODE_CONFIG="$WORK/kubeadm-node.yaml"  # default certificatesDir, as on a node
write_config "$CONFIG" "$WORK/pki"
write_config "$NODE_CONFIG"

t0="$SECONDS"
run kubeadm-version kubeadm version -o short
[[ "$(cat "$WORK/kubeadm-version.log")" == "v$KUBERNETES_VERSION" ]] \
  || die "kubeadm reports $(cat "$WORK/kubeadm-version.log"), want v$KUBERNETES_VERSION"
run certs kubeadm init phase certs all --config "$CONFIG"
mkdir -p "$WORK/manifests"
run manifest env KUBEADM_INIT_DRYRUN_DIR="$WORK/manifests" \
  kubeadm init phase control-plane apiserver --config "$NODE_CONFIG" --dry-run
run kubeconfig-admin kubeadm init phase kubeconfig admin --config "$CONFIG" --kubeconfig-dir "$WORK"
run kubeconfig-super-admin kubeadm init phase kubeconfig super-admin --config "$CONFIG" --kubeconfig-dir "$WORK"
MANIFEST="$WORK/manifests/kube-apiserver.yaml"
for f in "$WORK/pki/ca.crt" "$WORK/pki/etcd/server.crt" "$MANIFEST" "$WORK/admin.conf" "$WORK/super-admin.conf"; do
  [[ -s "$f" ]] || die "kubeadm did not write $f"
done
grep -q -- '--client-ca-file=/etc/kubernetes/pki/ca.crt' "$MANIFEST" \
  || die "the node-style manifest does not use /etc/kubernetes/pki"
if [[ "$ETC_K8S_EXISTED" -eq 0 && -e /etc/kubernetes ]]; then
  die "kubeadm created /etc/kubernetes; the phases must stay in $WORK"
fi
log "kubeadm phases (certs, manifest, kubeconfigs) in $(( SECONDS - t0 ))s"

# --- 6 (early, no processes needed). The built-in flag set matches kubeadm's rendering --------
export ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380   # only for printing; nothing listens
"$HERE/apiserver.sh" flags "$WORK/pki" "$MANIFEST" 2>/dev/null | sort >"$WORK/flags.manifest"
"$HERE/apiserver.sh" flags "$WORK/pki" 2>/dev/null | sort >"$WORK/flags.builtin"
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
log "admin.conf before the kubeadm:cluster-admins binding: $(tail -n 1 "$WORK/ns-before.log")"
run bind kubectl --kubeconfig "$SUPER" create clusterrolebinding kubeadm:cluster-admins \
  --clusterrole=cluster-admin --group=kubeadm:cluster-admins
run namespaces kubectl --kubeconfig "$ADMIN" get namespaces
for ns in default kube-system kube-public kube-node-lease; do
  grep -q "^$ns " "$WORK/namespaces.log" || die "namespace $ns missing: $(cat "$WORK/namespaces.log")"
done
log "kubectl get namespaces:"
sed 's/^/[selftest]   /' "$WORK/namespaces.log" >&2

# /version directly: `kubectl version` adds a client/server skew warning to its output.
run server-version kubectl --kubeconfig "$ADMIN" get --raw /version
server_version="$(jq -r .gitVersion "$WORK/server-version.log")"
[[ "$server_version" == "v$KUBERNETES_VERSION" ]] || die "server reports $server_version, want v$KUBERNETES_VERSION"
log "server version: $server_version"

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
