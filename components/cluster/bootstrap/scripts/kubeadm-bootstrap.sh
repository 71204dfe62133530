#!/usr/bin/env bash
# Turns a node into a cluster member without SSH: prepares it (node-prepare.sh), then joins the
# cluster, or, on the first control-plane node of a new cluster only, initialises it. Every phase
# retries with bounded exponential back-off (kubeadm reset between attempts, the keys cloud-init
# wrote kept), and the node's progress is kept in a status file (STATE_DIR/bootstrap.status:
# phase, state, attempt, detail) and printed to the console (`openstack console log show <node>`).
#
# The first control-plane node initialises only when nothing of a cluster answers (neither the API
# endpoint nor any other control-plane node on 6443 or 2379) during a whole decision window: a
# replaced first node must join the existing cluster, never start a second one because one probe
# failed. A control-plane node cleans up etcd membership around its join (etcd-membership.sh): a
# previous life of itself, and the node it REPLACES. Idempotent: a node that already has a kubelet
# config is left alone.
#
# bootstrap.env (written by cloud-init): NODE_ROLE (init | control-plane | worker), API_ENDPOINT,
# NODE_NAME, NODE_ADDRESS, CONTROL_PLANE_PEERS (the other control-plane nodes' addresses),
# REPLACES (optional). The other variables below only exist for tests.
set -euo pipefail

BOOTSTRAP_DIR="${BOOTSTRAP_DIR:-/etc/kubernetes/bootstrap}"
# shellcheck source=/dev/null
. "${BOOTSTRAP_DIR}/bootstrap.env"
: "${NODE_ROLE:?}" "${API_ENDPOINT:?}"

PKI_DIR="${PKI_DIR:-/etc/kubernetes/pki}"
STATE_DIR="${STATE_DIR:-/var/lib/istio-openstack}"
STATUS_FILE="${STATE_DIR}/bootstrap.status"
SBIN="${SBIN:-/usr/local/sbin}"
KUBELET_CONFIG="${KUBELET_CONFIG:-/var/lib/kubelet/config.yaml}"
# Bounds: attempts per phase, first and largest pause between attempts (seconds).
PREPARE_ATTEMPTS="${PREPARE_ATTEMPTS:-5}"
JOIN_ATTEMPTS="${JOIN_ATTEMPTS:-5}"
FIRST_DELAY="${FIRST_DELAY:-15}"
MAX_DELAY="${MAX_DELAY:-240}"
JOIN_WAIT_SECONDS="${JOIN_WAIT_SECONDS:-1800}"
INIT_DECISION_SECONDS="${INIT_DECISION_SECONDS:-180}"
API_PORT="${API_PORT:-6443}"
ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-2379}"

mkdir -p "${STATE_DIR}"
chmod 0700 "${STATE_DIR}"

log() { echo "kubeadm-bootstrap: $*" >&2; }

# status <phase> <state> <detail>: one key=value file, replaced atomically.
status() {
  local tmp="${STATUS_FILE}.tmp"
  {
    printf 'node=%s\nrole=%s\nphase=%s\nstate=%s\n' "${NODE_NAME:-$(hostname)}" "${NODE_ROLE}" "$1" "$2"
    printf 'attempt=%s\ndetail=%s\nupdated=%s\n' "${ATTEMPT:-0}" "$3" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"${tmp}"
  mv -f "${tmp}" "${STATUS_FILE}"
  log "[${1}] ${2}: ${3}"
}

# retry <phase> <attempts> <command...>: exponential back-off between attempts, bounded by MAX_DELAY;
# before each further attempt, the phase's cleanup (if any) runs.
ATTEMPT=0
retry() {
  local phase="$1" attempts="$2" delay="${FIRST_DELAY}" rc=0
  shift 2
  for ((ATTEMPT = 1; ATTEMPT <= attempts; ATTEMPT++)); do
    status "${phase}" running "attempt ${ATTEMPT} of ${attempts}: $*"
    rc=0
    "$@" || rc=$?
    if [ "${rc}" -eq 0 ]; then
      status "${phase}" succeeded "after ${ATTEMPT} attempt(s)"
      return 0
    fi
    if [ "${ATTEMPT}" -lt "${attempts}" ]; then
      status "${phase}" retrying "attempt ${ATTEMPT} exited ${rc}; next in ${delay} s"
      sleep "${delay}"
      delay=$((delay * 2 > MAX_DELAY ? MAX_DELAY : delay * 2))
      if declare -F "cleanup_${phase}" >/dev/null; then "cleanup_${phase}"; fi
    fi
  done
  ATTEMPT="${attempts}"
  status "${phase}" failed "gave up after ${attempts} attempts (last exit ${rc}); see /var/log/cloud-init-output.log"
  return 1
}

# --- is a cluster there? ---------------------------------------------------------------------------
endpoint_ready() {
  curl --silent --fail --max-time 5 --cacert "${PKI_DIR}/ca.crt" \
    "https://${API_ENDPOINT}:${API_PORT}/readyz" >/dev/null
}

tcp_open() { # host port
  timeout 3 bash -c "exec 3<>/dev/tcp/${1}/${2}" 2>/dev/null
}

# Prints what answered ("" when nothing did).
cluster_evidence() {
  if endpoint_ready; then
    echo "the API endpoint ${API_ENDPOINT}:${API_PORT} is ready"
    return
  fi
  local peer port
  for peer in ${CONTROL_PLANE_PEERS:-}; do
    for port in "${API_PORT}" "${ETCD_CLIENT_PORT}"; do
      if tcp_open "${peer}" "${port}"; then
        echo "control-plane node ${peer} answers on ${port}"
        return
      fi
    done
  done
}

# init or join, for the first control-plane node: join as soon as anything of a cluster answers;
# init only when nothing did for the whole window.
DECISION=""
decide() {
  local deadline=$((SECONDS + INIT_DECISION_SECONDS)) delay="${DECISION_POLL_SECONDS:-5}" evidence
  while :; do
    evidence="$(cluster_evidence)"
    if [ -n "${evidence}" ]; then
      DECISION="join"
      status decide succeeded "join: ${evidence}"
      return 0
    fi
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      DECISION="init"
      status decide succeeded "init: nothing answered for ${INIT_DECISION_SECONDS} s (endpoint ${API_ENDPOINT}, peers ${CONTROL_PLANE_PEERS:-none})"
      return 0
    fi
    status decide running "nothing answers yet; probing again in ${delay} s (init after ${INIT_DECISION_SECONDS} s of silence)"
    sleep "${delay}"
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
}

wait_for_endpoint() {
  local deadline=$((SECONDS + JOIN_WAIT_SECONDS))
  until endpoint_ready; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      log "API endpoint ${API_ENDPOINT}:${API_PORT} not ready after ${JOIN_WAIT_SECONDS} s; cannot join"
      return 1
    fi
    sleep 10
  done
}

# --- a clean slate between attempts ----------------------------------------------------------------
# kubeadm reset empties the certificate dir, which holds the keys cloud-init wrote: keep them aside.
SEED="${STATE_DIR}/pki-seed"
save_seed() {
  [ -d "${SEED}" ] && return 0
  mkdir -p "${SEED}"
  chmod 0700 "${SEED}"
  cp -a "${PKI_DIR}/." "${SEED}/"
}
restore_seed() {
  mkdir -p "${PKI_DIR}"
  cp -a "${SEED}/." "${PKI_DIR}/"
}
cleanup_kubeadm() {
  log "resetting the node before the next attempt (kubeadm reset; this node's keys are kept)"
  kubeadm reset -f >&2 || log "kubeadm reset failed; trying the next attempt anyway"
  restore_seed
}

# (retry runs these in an `||` context, where `set -e` does not stop a function: chain with &&.)
control_plane_join() {
  wait_for_endpoint &&
    "${SBIN}/etcd-membership.sh" before-join &&
    kubeadm join --config "${BOOTSTRAP_DIR}/join.yaml"
}

worker_join() {
  wait_for_endpoint && kubeadm join --config "${BOOTSTRAP_DIR}/join.yaml"
}

first_node() {
  decide || return 1
  if [ "${DECISION}" = join ]; then
    control_plane_join
  else
    # The join command kubeadm prints would carry the token into the console log, which every
    # project member can read (Nova's os-console-output policy).
    kubeadm init --config "${BOOTSTRAP_DIR}/init.yaml" --skip-token-print
  fi
}

after_join() {
  [ -n "${REPLACES:-}" ] || return 0
  "${SBIN}/etcd-membership.sh" after-join &&
    kubectl --kubeconfig /etc/kubernetes/admin.conf delete node "${REPLACES}" --ignore-not-found >&2
}

# --- main ------------------------------------------------------------------------------------------
if [ -f "${KUBELET_CONFIG}" ]; then
  status complete succeeded "already a cluster member; nothing to do"
  exit 0
fi

retry prepare "${PREPARE_ATTEMPTS}" "${SBIN}/node-prepare.sh"
save_seed
case "${NODE_ROLE}" in
  init) retry kubeadm "${JOIN_ATTEMPTS}" first_node ;;
  control-plane)
    retry kubeadm "${JOIN_ATTEMPTS}" control_plane_join
    retry after-join 3 after_join
    ;;
  worker) retry kubeadm "${JOIN_ATTEMPTS}" worker_join ;;
  *)
    status kubeadm failed "unknown NODE_ROLE ${NODE_ROLE}"
    exit 2
    ;;
esac
status complete succeeded "node is a cluster member (${NODE_ROLE}${DECISION:+, decided ${DECISION}})"
