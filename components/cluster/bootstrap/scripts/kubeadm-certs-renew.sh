#!/usr/bin/env bash
# Renews this control-plane node's kubeadm-managed certificates before they expire, without SSH.
# Run daily by kubeadm-certs-renew.timer (a random delay of up to 12 h keeps the control-plane
# nodes of one cluster from restarting together). kubeadm signs these leaf certificates for one
# year and renews them only during `kubeadm upgrade`; the CAs (Pulumi's, ten years) and the
# kubelet's own certificates (rotated by the kubelet) are not touched.
#
# When any certificate kubeadm manages here (`kubeadm certs check-expiration`) has less than
# RENEW_BEFORE_DAYS left: `kubeadm certs renew all`, then the static pods are restarted one at a
# time, as kubeadm asks ("You must restart the kube-apiserver, kube-controller-manager,
# kube-scheduler and etcd"): the kubelet stops a static pod whose manifest leaves its directory and
# starts it again when the manifest comes back.
#
# Environment (defaults are a control-plane node's paths): RENEW_BEFORE_DAYS (30), PKI_DIR,
# MANIFEST_DIR, KUBEADM_CONFIG (a kubeadm config file; unset: kubeadm reads the cluster's),
# RESTART_WAIT_SECONDS (20: how long a static pod stays stopped).
set -euo pipefail

pki=${PKI_DIR:-/etc/kubernetes/pki}
manifests=${MANIFEST_DIR:-/etc/kubernetes/manifests}
renew_before=$((${RENEW_BEFORE_DAYS:-30} * 86400))
config_args=(--cert-dir "${pki}")
if [ -n "${KUBEADM_CONFIG:-}" ]; then config_args+=(--config "${KUBEADM_CONFIG}"); fi

log() { echo "kubeadm-certs-renew: $*" >&2; }

if [ ! -f "${manifests}/kube-apiserver.yaml" ]; then
  log "no kube-apiserver manifest in ${manifests}: not a control-plane node (yet); nothing to do"
  exit 0
fi

# "<name> <seconds left>" for every certificate kubeadm manages that exists here.
remaining=$(kubeadm certs check-expiration "${config_args[@]}" \
  -o 'jsonpath={range .certificates[?(@.missing==false)]}{.name} {.residualTime}{"\n"}{end}')
due=$(awk -v limit="${renew_before}" 'NF == 2 && $2 < limit { print $1 }' <<<"${remaining}")
if [ -z "${due}" ]; then
  log "every certificate has more than ${RENEW_BEFORE_DAYS:-30} days left; nothing to do"
  exit 0
fi
log "due for renewal: $(tr '\n' ' ' <<<"${due}")"
kubeadm certs renew all "${config_args[@]}"

restarted=()
for component in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  manifest="${manifests}/${component}.yaml"
  [ -f "${manifest}" ] || continue
  parked=$(mktemp -d)
  mv "${manifest}" "${parked}/"
  sleep "${RESTART_WAIT_SECONDS:-20}"
  mv "${parked}/${component}.yaml" "${manifest}"
  rmdir "${parked}"
  restarted+=("${component}")
  sleep "${RESTART_WAIT_SECONDS:-20}"
done
log "renewed; restarted ${restarted[*]}"
