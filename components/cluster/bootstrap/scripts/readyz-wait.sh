#!/usr/bin/env bash
# The readiness gate: waits until the new API server answers /readyz over TLS with the cluster CA
# pinned, bounded in time. Nothing Kubernetes is attempted before it succeeds.
# Environment: API_ENDPOINT (host[:port]), CA_PEM (the cluster CA certificate), TIMEOUT_SECONDS.
set -euo pipefail
: "${API_ENDPOINT:?}" "${CA_PEM:?}" "${TIMEOUT_SECONDS:?}"

ca_file=$(mktemp)
trap 'rm -f "${ca_file}"' EXIT
printf '%s\n' "${CA_PEM}" >"${ca_file}"

case "${API_ENDPOINT}" in
  *:*) url="https://${API_ENDPOINT}/readyz" ;;
  *) url="https://${API_ENDPOINT}:6443/readyz" ;;
esac

deadline=$((SECONDS + TIMEOUT_SECONDS))
attempt=0
last_error="no attempt made"
while [ "${SECONDS}" -lt "${deadline}" ]; do
  attempt=$((attempt + 1))
  if body=$(curl --silent --show-error --fail --max-time 10 --cacert "${ca_file}" "${url}" 2>&1); then
    echo "API server ready at ${url} after ${attempt} attempt(s), ${SECONDS} s: ${body}"
    exit 0
  fi
  last_error=${body}
  sleep "${POLL_SECONDS:-10}"
done
echo "API server at ${url} not ready after ${TIMEOUT_SECONDS} s (${attempt} attempts); last error: ${last_error}" >&2
echo "Check the first control-plane node's console log (openstack console log show <node>) for cloud-init and kubeadm output." >&2
exit 1
