#!/usr/bin/env bash
# Opens (or closes) the join window: writes the bootstrap token that new nodes join with into the
# cluster as the Secret kube-system/bootstrap-token-<id>, valid for TTL_SECONDS from now. Run by
# `pulumi up` whenever a node instance is created or replaced (mint), and before it is replaced or
# destroyed (revoke). kube-controller-manager signs the cluster-info ConfigMap for the token
# (bootstrapsigner) and deletes the Secret once expired (tokencleaner); kubeadm enables both.
#
# Environment: ACTION (mint | revoke), API_ENDPOINT (host[:port]), CA_PEM, CLIENT_CERT_PEM,
# CLIENT_KEY_PEM (an admin credential), TOKEN ("<id>.<secret>"), TTL_SECONDS (mint).
# Optional: API_CONNECT_TO (host:port) connects there and verifies the certificate for
# API_ENDPOINT (a tunnel through a jump host, as for the readiness gate); MINT_WAIT_SECONDS (300):
# how long a mint retries while the API server refuses the admin credential (`kubeadm init` binds
# its group moments after /readyz first answers) or is unreachable.
# The token's secret half is never printed and never on a command line (curl reads it on stdin).
set -euo pipefail
: "${ACTION:?}" "${API_ENDPOINT:?}" "${CA_PEM:?}" "${CLIENT_CERT_PEM:?}" "${CLIENT_KEY_PEM:?}" "${TOKEN:?}"

log() { echo "join-token: $*" >&2; }

if [[ ! "${TOKEN}" =~ ^([a-z0-9]{6})\.([a-z0-9]{16})$ ]]; then
  log "TOKEN is not a bootstrap token (<6 chars>.<16 chars> of [a-z0-9])"
  exit 2
fi
token_id=${BASH_REMATCH[1]}
token_secret=${BASH_REMATCH[2]}
name="bootstrap-token-${token_id}"

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
(
  umask 077
  printf '%s\n' "${CA_PEM}" >"${work}/ca.crt"
  printf '%s\n' "${CLIENT_CERT_PEM}" >"${work}/client.crt"
  printf '%s\n' "${CLIENT_KEY_PEM}" >"${work}/client.key"
)

case "${API_ENDPOINT}" in
  *:*) host=${API_ENDPOINT%:*} port=${API_ENDPOINT##*:} ;;
  *) host=${API_ENDPOINT} port=6443 ;;
esac
base="https://${host}:${port}/api/v1/namespaces/kube-system/secrets"
curl_args=(--silent --show-error --max-time 20 --retry 3 --retry-connrefused
  --cacert "${work}/ca.crt" --cert "${work}/client.crt" --key "${work}/client.key"
  --output "${work}/response" --write-out '%{http_code}')
if [ -n "${API_CONNECT_TO:-}" ]; then
  curl_args+=(--connect-to "${host}:${port}:${API_CONNECT_TO}")
fi

# An RFC 3339 time TTL_SECONDS from now, with GNU date (Linux) or BSD date (macOS).
expiration_after() {
  local at=$(($(date +%s) + $1))
  date -u -d "@${at}" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "${at}" +%Y-%m-%dT%H:%M:%SZ
}

# The Secret kubeadm itself would write for `kubeadm token create` (group and usages as kubeadm's).
secret_json() {
  cat <<JSON
{"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
 "metadata": {"name": "${name}", "namespace": "kube-system",
              "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
 "stringData": {"description": "node joins, minted by pulumi up",
                "token-id": "${token_id}", "token-secret": "${token_secret}",
                "expiration": "$1",
                "usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
                "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}}
JSON
}

request() { # method url [body on stdin]
  local code
  if ! code=$(curl "${curl_args[@]}" --request "$1" --header 'Content-Type: application/json' \
    --data-binary @- "$2"); then
    return 1
  fi
  printf '%s' "${code}"
}

# Create the token's Secret, or replace it when it exists (kubeadm init registered it, or a node
# was re-created under a name the token already covers): either way a window from now.
write_token() { # expiration
  local code
  code=$(secret_json "$1" | request POST "${base}") || return 1
  if [ "${code}" = 409 ]; then
    code=$(secret_json "$1" | request PUT "${base}/${name}") || return 1
  fi
  printf '%s' "${code}"
}

case "${ACTION}" in
  mint)
    : "${TTL_SECONDS:?}"
    deadline=$((SECONDS + ${MINT_WAIT_SECONDS:-300}))
    while :; do
      expiration=$(expiration_after "${TTL_SECONDS}")
      code=$(write_token "${expiration}") || code=unreachable
      case "${code}" in
        200 | 201) break ;;
        unreachable | 401 | 403 | 429 | 5*)
          if [ "${SECONDS}" -ge "${deadline}" ]; then
            log "gave up after ${MINT_WAIT_SECONDS:-300} s writing ${name}: ${code} $(head -c 600 "${work}/response" 2>/dev/null)"
            exit 1
          fi
          sleep 5
          ;;
        *)
          log "the API server answered ${code} writing ${name}: $(head -c 600 "${work}/response")"
          exit 1
          ;;
      esac
    done
    echo "join window open until ${expiration} for bootstrap token ${token_id}"
    ;;
  revoke)
    # Best effort: the token expires anyway, and a destroy must not stall on an unreachable cluster.
    if code=$(request DELETE "${base}/${name}" </dev/null); then
      case "${code}" in
        200 | 202 | 404) echo "bootstrap token ${token_id} revoked" ;;
        *) log "the API server answered ${code} deleting ${name}; it expires on its own" ;;
      esac
    else
      log "API server unreachable; bootstrap token ${token_id} expires on its own"
    fi
    ;;
  *)
    log "ACTION must be mint or revoke, got ${ACTION}"
    exit 2
    ;;
esac
