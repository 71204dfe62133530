#!/usr/bin/env bash
# The readiness gate: waits until the new API server answers /readyz over TLS with the cluster CA
# pinned, bounded in time. Nothing Kubernetes is attempted before it succeeds.
# Environment: API_ENDPOINT (host[:port]), CA_PEM (the cluster CA certificate), TIMEOUT_SECONDS.
# Optional: API_CONNECT_TO (host:port) connects there instead of to API_ENDPOINT, while the
# certificate is still verified for API_ENDPOINT. Useful behind a jump host: open a tunnel
# (ssh -N -L 6443:<endpoint>:6443 <bastion>) and run `pulumi up` with API_CONNECT_TO=127.0.0.1:6443
# (the command inherits the environment of `pulumi up`). The e2e ring uses it to reach an API
# server on loopback that serves the endpoint's certificate. POLL_SECONDS: pause between attempts.
set -euo pipefail
: "${API_ENDPOINT:?}" "${CA_PEM:?}" "${TIMEOUT_SECONDS:?}"

ca_file=$(mktemp)
trap 'rm -f "${ca_file}"' EXIT
printf '%s\n' "${CA_PEM}" >"${ca_file}"

case "${API_ENDPOINT}" in
  *:*) host=${API_ENDPOINT%:*} port=${API_ENDPOINT##*:} ;;
  *) host=${API_ENDPOINT} port=6443 ;;
esac
url="https://${host}:${port}/readyz"
curl_args=(--silent --show-error --fail --max-time 10 --cacert "${ca_file}")
via=""
if [ -n "${API_CONNECT_TO:-}" ]; then
  curl_args+=(--connect-to "${host}:${port}:${API_CONNECT_TO}")
  via=" (connecting through ${API_CONNECT_TO})"
fi

deadline=$((SECONDS + TIMEOUT_SECONDS))
attempt=0
last_error="no attempt made"
while [ "${SECONDS}" -lt "${deadline}" ]; do
  attempt=$((attempt + 1))
  if body=$(curl "${curl_args[@]}" "${url}" 2>&1); then
    echo "API server ready at ${url}${via} after ${attempt} attempt(s), ${SECONDS} s: ${body}"
    exit 0
  fi
  last_error=${body}
  sleep "${POLL_SECONDS:-10}"
done
echo "API server at ${url}${via} not ready after ${TIMEOUT_SECONDS} s (${attempt} attempts); last error: ${last_error}" >&2
echo "Check the first control-plane node's console log (openstack console log show <node>) for cloud-init and kubeadm output." >&2
exit 1
