#!/usr/bin/env bash
# Keeps etcd's membership right when a control-plane node is created to take the place of another
# (repair, or a node deleted behind Pulumi's back). kubeadm cannot do it: `kubeadm join
# --control-plane` refuses to join while any member is unreachable (kubernetes/kubeadm#1432), and skips
# the member add when a member with its peer URL already exists, so a stale member must go first.
#
#   etcd-membership.sh before-join   remove the members that are certainly stale: this node's own name
#                                    or peer URL (a previous life of this node), and the node named by
#                                    REPLACES when it is dead
#   etcd-membership.sh after-join    remove the node named by REPLACES once this node is a member
#                                    (scale out first, then in: the order of Cluster API's KCP)
#
# It talks to the surviving members through etcd's JSON gateway (/v3/cluster/member/*) with a client
# certificate it signs itself with the etcd CA this node already holds, so it needs neither etcdctl
# nor a working Kubernetes API. It never removes the last member, never a live member of this node's
# own name (two machines with one name is a mistake to report, not to repair), and never a member
# whose removal would leave fewer live voting members than a quorum of the rest. "Dead" means: did
# not answer three probes in a row (see alive).
#
# Reads /etc/kubernetes/bootstrap/bootstrap.env: NODE_NAME, NODE_ADDRESS, CONTROL_PLANE_PEERS
# (space-separated addresses of the other control-plane nodes), REPLACES (optional).
# Environment (tests): BOOTSTRAP_ENV, ETCD_PKI (default /etc/kubernetes/pki/etcd), ETCD_CLIENT_PORT
# (2379), ETCD_PEER_PORT (2380), ETCD_TIMEOUT (seconds per request, 5), PROBE_PAUSE (seconds, 2).
# Exit: 0 done (or nothing to do), 1 refused or failed (the reason on stderr).
set -euo pipefail

# shellcheck source=/dev/null
. "${BOOTSTRAP_ENV:-/etc/kubernetes/bootstrap/bootstrap.env}"
: "${NODE_NAME:?}" "${NODE_ADDRESS:?}"
pki="${ETCD_PKI:-/etc/kubernetes/pki/etcd}"
client_port="${ETCD_CLIENT_PORT:-2379}"
peer_port="${ETCD_PEER_PORT:-2380}"
timeout="${ETCD_TIMEOUT:-5}"
own_peer_url="https://${NODE_ADDRESS}:${peer_port}"

log() { echo "etcd-membership: $*" >&2; }

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
chmod 0700 "${work}"

# A short-lived client certificate from the etcd CA (etcd checks only that the CA signed it).
client_certificate() {
  openssl ecparam -name prime256v1 -genkey -noout -out "${work}/client.key" 2>/dev/null
  openssl req -new -key "${work}/client.key" -subj "/CN=${NODE_NAME}-etcd-membership" \
    -out "${work}/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"${work}/ext"
  openssl x509 -req -in "${work}/client.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
    -CAcreateserial -CAserial "${work}/ca.srl" -days 1 -extfile "${work}/ext" \
    -out "${work}/client.crt" 2>/dev/null
}

# POST <url> <json body>: prints the response body; fails on a transport or HTTP error.
gateway() {
  curl --silent --show-error --fail --max-time "${timeout}" --cacert "${pki}/ca.crt" \
    --cert "${work}/client.crt" --key "${work}/client.key" -X POST -d "$2" "$1"
}

# A member is alive when its etcd answers at all (/version needs no quorum: a member in the middle
# of a leader election still answers, where /health says false). Only a member that does not answer
# three times over a few seconds counts as dead: one lost probe must never remove a live member.
answers() { # client URL
  curl --silent --fail --max-time "${timeout}" --cacert "${pki}/ca.crt" \
    --cert "${work}/client.crt" --key "${work}/client.key" "$1/version" >/dev/null 2>&1
}
alive() { # client URL ("-": never started)
  local probe
  [ "$1" != "-" ] || return 1
  for probe in 1 2 3; do
    if answers "$1"; then return 0; fi
    [ "${probe}" -lt 3 ] && sleep "${PROBE_PAUSE:-2}"
  done
  return 1
}

# The first peer whose etcd answers a member list (a list goes through the member's view of the
# cluster; an answer means that member runs).
endpoint=""
find_endpoint() {
  local peer
  for peer in ${CONTROL_PLANE_PEERS:-}; do
    if gateway "https://${peer}:${client_port}/v3/cluster/member/list" '{}' >"${work}/members.json" 2>/dev/null; then
      endpoint="https://${peer}:${client_port}"
      return 0
    fi
  done
  return 1
}

# One line per member: id name learner peer-url client-url ("-" where absent).
members() {
  local attempt
  for attempt in 1 2 3; do
    gateway "${endpoint}/v3/cluster/member/list" '{}' >"${work}/members.json" && break
    [ "${attempt}" -lt 3 ] || return 1
    sleep 2
  done
  python3 - "${work}/members.json" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1])).get("members", []):
    peers = m.get("peerURLs") or ["-"]
    clients = m.get("clientURLs") or ["-"]
    print(m["ID"], m.get("name") or "-", "learner" if m.get("isLearner") else "voter", peers[0], clients[0])
PY
}

# remove <id> <name> <why>: refuses when it would break quorum (fewer live voting members than a
# quorum of the voters that remain) or empty the cluster.
remove() {
  local id="$1" name="$2" why="$3" total=0 voters=0 healthy_voters=0 target_healthy=0 target_voter=0
  local mid mname role peer client list target_peer=""
  list="$(members)"
  while read -r mid mname role peer client; do
    total=$((total + 1))
    local is_healthy=0
    if alive "${client}"; then is_healthy=1; fi
    if [ "${mid}" = "${id}" ]; then
      target_healthy="${is_healthy}"
      target_peer="${peer}"
      [ "${role}" = voter ] && target_voter=1
    fi
    if [ "${role}" = voter ]; then
      voters=$((voters + 1))
      healthy_voters=$((healthy_voters + is_healthy))
    fi
  done <<<"${list}"
  if [ "${total}" -le 1 ]; then
    log "refusing to remove ${name} (${id}): it is the last member"
    return 1
  fi
  local voters_after=$((voters - target_voter)) healthy_after=$((healthy_voters - target_healthy))
  local quorum_after=$((voters_after / 2 + 1))
  if [ "${healthy_after}" -lt "${quorum_after}" ]; then
    log "refusing to remove ${name} (${id}): ${healthy_after} live voting member(s) would remain of ${voters_after}, quorum needs ${quorum_after}; the cluster has lost quorum: restore etcd from a snapshot (docs/operations.md)"
    return 1
  fi
  # etcd refuses a membership change until its members have been connected a little while
  # ("unhealthy cluster"); retry like kubeadm does, bounded.
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if gateway "${endpoint}/v3/cluster/member/remove" "{\"ID\":\"${id}\"}" >/dev/null; then
      log "removed member ${name} (${id}, ${target_peer}): ${why}"
      return 0
    fi
    log "removing member ${name} failed (attempt ${attempt} of 6); retrying in $((attempt * 2)) s"
    sleep $((attempt * 2))
  done
  log "could not remove member ${name} (${id}) through ${endpoint}"
  return 1
}

before_join() {
  local mid mname role peer client list
  list="$(members)"
  while read -r mid mname role peer client; do
    if [ "${mname}" = "${NODE_NAME}" ] || [ "${peer}" = "${own_peer_url}" ]; then
      if alive "${client}"; then
        log "a live member ${mname} (${peer}) already has this node's name or address; two machines claim ${NODE_NAME}: refusing to touch it"
        return 1
      fi
      remove "${mid}" "${mname}" "a previous life of this node (${NODE_NAME}, ${own_peer_url})"
    elif [ -n "${REPLACES:-}" ] && [ "${mname}" = "${REPLACES}" ]; then
      if alive "${client}"; then
        log "member ${mname}, which this node replaces, is alive: it leaves after this node joined"
      else
        remove "${mid}" "${mname}" "replaced by ${NODE_NAME} and unreachable"
      fi
    fi
  done <<<"${list}"
}

after_join() {
  [ -n "${REPLACES:-}" ] || return 0
  local mid mname role peer client list
  list="$(members)"
  while read -r mid mname role peer client; do
    if [ "${mname}" = "${REPLACES}" ]; then
      remove "${mid}" "${mname}" "replaced by ${NODE_NAME}, which has joined"
    fi
  done <<<"${list}"
}

case "${1:-}" in
  before-join | after-join) ;;
  *)
    log "usage: $0 before-join|after-join"
    exit 2
    ;;
esac
client_certificate
if ! find_endpoint; then
  log "no etcd member answers at ${CONTROL_PLANE_PEERS:-<no peers>} (port ${client_port}); nothing to reconcile"
  exit 0
fi
if [ "$1" = before-join ]; then before_join; else after_join; fi
