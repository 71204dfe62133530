#!/usr/bin/env bash
# Turns a prepared node into a cluster member without SSH. The first control-plane node runs
# `kubeadm init` unless the API endpoint already answers (a replaced first node must join the
# existing cluster, never start a second one); every other node joins. Idempotent: a node that
# already has a kubelet config is left alone.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/kubernetes/bootstrap/bootstrap.env
: "${NODE_ROLE:?}" "${API_ENDPOINT:?}"

config_dir=/etc/kubernetes/bootstrap
log() { echo "kubeadm-bootstrap: $*" >&2; }

if [ -f /var/lib/kubelet/config.yaml ]; then
  log "already a cluster member; nothing to do"
  exit 0
fi

endpoint_ready() {
  curl --silent --fail --max-time 5 --cacert /etc/kubernetes/pki/ca.crt \
    "https://${API_ENDPOINT}:6443/readyz" >/dev/null
}

wait_for_endpoint() {
  local deadline=$((SECONDS + ${JOIN_WAIT_SECONDS:-1800}))
  until endpoint_ready; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      log "API endpoint ${API_ENDPOINT}:6443 not ready after ${JOIN_WAIT_SECONDS:-1800} s; cannot join"
      return 1
    fi
    sleep 10
  done
}

case "${NODE_ROLE}" in
  init)
    if endpoint_ready; then
      log "the cluster already answers at ${API_ENDPOINT}: joining it as a control-plane node"
      kubeadm join --config "${config_dir}/join.yaml"
    else
      kubeadm init --config "${config_dir}/init.yaml"
    fi
    ;;
  control-plane | worker)
    wait_for_endpoint
    kubeadm join --config "${config_dir}/join.yaml"
    ;;
  *)
    log "unknown NODE_ROLE ${NODE_ROLE}"
    exit 2
    ;;
esac
log "node joined the cluster as ${NODE_ROLE}"
