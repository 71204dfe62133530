#!/usr/bin/env bash
# Smoke test of the local OpenStack control plane with the `openstack` CLI, as the project user:
# creates what the project's OpenStack layer creates (network MTU 1450, subnet, router with the
# external gateway `public` and an interface, security group + rule, keypair, soft-anti-affinity
# server group, port, server on that port, floating IP on the port, application credential, an
# Octavia load balancer with a TCP listener on 6443, pool, member and health monitor, a floating IP
# on its VIP), checks each reaches ACTIVE, deletes everything and runs leftovers.sh.
#
# Usage: e2e/openstack/smoke.sh       (after start.sh; OS_CLOUD defaults to `e2e`)
# Exit 0 when every step passed and nothing is left; on a failure it still cleans up what it made.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if [[ -z "${OS_CLIENT_CONFIG_FILE:-}" ]]; then
  [[ -r "$OS_CLOUDS_YAML" ]] || die "no $OS_CLOUDS_YAML: run start.sh first"
  export OS_CLIENT_CONFIG_FILE=$OS_CLOUDS_YAML
fi
export OS_CLOUD=${OS_CLOUD:-e2e}
# Microversions: compute 2.15 for soft-anti-affinity server groups.
export OS_COMPUTE_API_VERSION=2.15

P=smoke-$$ # every name carries this prefix
SUBNET_CIDR=192.0.2.0/24 # RFC 5737 documentation range; nothing is routed anyway
# Scratch files in the state dir: other sessions on this machine clean /tmp.
if mkdir -p "$OS_STATE" 2>/dev/null; then WORK=$(mktemp -d "$OS_STATE/smoke.XXXXXX"); else WORK=$(mktemp -d); fi
started=$SECONDS
STEP_NAMES=()
STEP_TIMES=()

os() { openstack "$@"; }
val() { openstack "$@" -f value; } # one value: pass -c FIELD

step() { # step DESCRIPTION COMMAND...: runs and times one step
  local description=$1 t=$SECONDS
  shift
  printf '[%s] %s ... ' "$(date +%H:%M:%S)" "$description"
  # A subshell with errexit of its own: in an `if` condition bash would ignore errexit inside the
  # step's function and go on after a failed command.
  set +e
  (
    set -e
    "$@"
  ) >"$WORK/out" 2>&1
  local rc=$?
  set -e
  if ((rc != 0)); then
    printf 'FAILED\n'
    sed 's/^/    /' "$WORK/out" >&2
    return "$rc"
  fi
  printf 'ok (%ss)\n' "$((SECONDS - t))"
  STEP_NAMES+=("$description")
  STEP_TIMES+=("$((SECONDS - t))")
}

expect() { # expect WHAT ACTUAL WANTED
  [[ "$2" == "$3" ]] || {
    echo "$1 is '$2', expected '$3'" >&2
    return 1
  }
}

cleanup() { # best effort, idempotent: deletes whatever of ours exists
  local id
  for id in $(val floating ip list -c ID --long -c Description | awk -v p="$P" '$2 == p {print $1}'); do
    os floating ip delete "$id" || true
  done
  if os loadbalancer show "$P-lb" >/dev/null 2>&1; then
    os loadbalancer delete --cascade --wait "$P-lb" || true
  fi
  if os server show "$P-server" >/dev/null 2>&1; then
    os server delete --wait "$P-server" || true
  fi
  os port delete "$P-port" 2>/dev/null || true
  os server group delete "$P-group" 2>/dev/null || true
  os keypair delete "$P-key" 2>/dev/null || true
  os application credential delete "$P-appcred" 2>/dev/null || true
  if os router show "$P-router" >/dev/null 2>&1; then
    os router remove subnet "$P-router" "$P-subnet" 2>/dev/null || true
    os router unset --external-gateway "$P-router" 2>/dev/null || true
    os router delete "$P-router" || true
  fi
  os subnet delete "$P-subnet" 2>/dev/null || true
  os network delete "$P-net" 2>/dev/null || true
  os security group delete "$P-sg" 2>/dev/null || true
}

on_exit() {
  local rc=$?
  if ((rc != 0)); then
    echo "smoke: FAILED (exit $rc) after $((SECONDS - started))s; cleaning up what it created" >&2
    cleanup >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap on_exit EXIT

# ----- create -------------------------------------------------------------------------------
create_network() {
  os network create --mtu 1450 "$P-net"
  expect "network MTU" "$(val network show -c mtu "$P-net")" 1450
}
create_router() {
  os router create "$P-router"
  os router set --external-gateway public "$P-router"
  os router add subnet "$P-router" "$P-subnet"
}
create_security_group() {
  os security group create --description "smoke test" "$P-sg"
  os security group rule create --ingress --protocol tcp --dst-port 6443 \
    --remote-ip "$SUBNET_CIDR" "$P-sg"
}
create_keypair() {
  ssh-keygen -q -t ed25519 -N '' -C "$P" -f "$WORK/key"
  os keypair create --public-key "$WORK/key.pub" "$P-key"
}
create_server() {
  local group
  printf '#cloud-config\nhostname: %s\n' "$P-server" >"$WORK/user-data"
  group=$(val server group show -c id "$P-group")
  os server create --flavor m1.small --image e2e-image --port "$P-port" --key-name "$P-key" \
    --hint "group=$group" --user-data "$WORK/user-data" --wait "$P-server"
  expect "server status" "$(val server show -c status "$P-server")" ACTIVE
}
create_port_fip() {
  os floating ip create --port "$P-port" --description "$P" public
}
create_lb() {
  os loadbalancer create --name "$P-lb" --vip-subnet-id "$P-subnet" --wait
  expect "load balancer" "$(val loadbalancer show -c provisioning_status "$P-lb")" ACTIVE
}
create_listener() {
  os loadbalancer listener create --name "$P-listener" --protocol TCP --protocol-port 6443 \
    --wait "$P-lb"
  expect "listener" "$(val loadbalancer listener show -c provisioning_status "$P-listener")" ACTIVE
}
create_pool() {
  os loadbalancer pool create --name "$P-pool" --listener "$P-listener" --protocol TCP \
    --lb-algorithm ROUND_ROBIN --wait
  expect "pool" "$(val loadbalancer pool show -c provisioning_status "$P-pool")" ACTIVE
}
create_member() {
  local address
  address=$(val port show -c fixed_ips "$P-port" | grep -oE "[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+" | head -n1)
  os loadbalancer member create --name "$P-member" --subnet-id "$P-subnet" --address "$address" \
    --protocol-port 6443 --wait "$P-pool"
  expect "member" "$(val loadbalancer member show -c provisioning_status "$P-pool" "$P-member")" \
    ACTIVE
}
create_monitor() {
  os loadbalancer healthmonitor create --name "$P-monitor" --type TCP --delay 5 --timeout 3 \
    --max-retries 3 --wait "$P-pool"
  expect "health monitor" \
    "$(val loadbalancer healthmonitor show -c provisioning_status "$P-monitor")" ACTIVE
  expect "load balancer after its children" \
    "$(val loadbalancer show -c provisioning_status "$P-lb")" ACTIVE
}
create_vip_fip() {
  local vip_port
  vip_port=$(val loadbalancer show -c vip_port_id "$P-lb")
  os floating ip create --port "$vip_port" --description "$P" public
}

# Item lines of leftovers.sh's section KIND that name something of this run.
section_has_ours() {
  awk -v k="$1:" -v p="$P" '$0 == k {f = 1; next} f && /^  / {if (index($0, p)) found = 1; next}
    f {f = 0} END {exit !found}' "$WORK/leftovers"
}

leftovers_reported() { # with everything present, leftovers.sh must fail and name every type
  local rc=0 kind line
  "$OS_HOME/leftovers.sh" >"$WORK/leftovers" 2>&1 || rc=$?
  cat "$WORK/leftovers"
  expect "leftovers.sh exit code (everything present)" "$rc" 1
  for kind in servers "server groups" keypairs networks subnets ports routers "floating IPs" \
    "security groups" "security group rules" "load balancers" "lb listeners" "lb pools" \
    "lb health monitors" "application credentials"; do
    line=$(grep -E "^$kind +[0-9]+\$" "$WORK/leftovers" || true)
    [[ -n "$line" && "${line##* }" -ge 1 ]] || {
      echo "leftovers.sh did not report $kind" >&2
      return 1
    }
    # Rules are listed by id and group id: their group is checked by name instead.
    [[ "$kind" == "security group rules" ]] || section_has_ours "$kind" || {
      echo "leftovers.sh did not name this run's $kind" >&2
      return 1
    }
  done
}

nothing_left() { # leftovers.sh must exit 0; if others use the project meanwhile, none may be ours
  local rc=0 ours foreign
  "$OS_HOME/leftovers.sh" >"$WORK/leftovers" 2>&1 || rc=$?
  cat "$WORK/leftovers"
  ((rc == 0)) && return 0
  ((rc == 1)) || {
    echo "leftovers.sh could not ask the APIs (exit $rc)" >&2
    return 1
  }
  ours=$(grep -E '^  [^ ]' "$WORK/leftovers" | grep -cF "$P" || true)
  foreign=$(grep -E '^  [^ ]' "$WORK/leftovers" | grep -vcF "$P" || true)
  if ((ours > 0)); then
    echo "leftovers.sh names $ours resource(s) of this run ($P-*)" >&2
    return 1
  fi
  echo "NOTE: leftovers.sh exit 1 for $foreign item(s) of another user of the project; none is $P-*"
  touch "$WORK/shared-project"
}

echo "smoke: cloud $OS_CLOUD, names $P-*"
step "network (MTU 1450)" create_network
step "subnet $SUBNET_CIDR" os subnet create --network "$P-net" --subnet-range "$SUBNET_CIDR" "$P-subnet"
step "router, gateway public, interface" create_router
step "security group + rule 6443" create_security_group
step "keypair" create_keypair
step "server group (soft-anti-affinity)" os server group create --policy soft-anti-affinity "$P-group"
step "port" os port create --network "$P-net" --security-group "$P-sg" "$P-port"
step "server on the port -> ACTIVE" create_server
step "floating IP on the port" create_port_fip
step "application credential" os application credential create "$P-appcred"
step "load balancer -> ACTIVE" create_lb
step "listener TCP 6443 -> ACTIVE" create_listener
step "pool -> ACTIVE" create_pool
step "member -> ACTIVE" create_member
step "health monitor -> ACTIVE" create_monitor
step "floating IP on the VIP port" create_vip_fip
step "leftovers.sh names all of it (exit 1)" leftovers_reported
sed 's/^/    /' "$WORK/out"
created_after=$((SECONDS - started))

# ----- delete -------------------------------------------------------------------------------
delete_fips() {
  local id
  for id in $(val floating ip list --long -c ID -c Description | awk -v p="$P" '$2 == p {print $1}'); do
    os floating ip delete "$id"
  done
}
delete_router() {
  os router remove subnet "$P-router" "$P-subnet"
  os router unset --external-gateway "$P-router"
  os router delete "$P-router"
}
step "delete floating IPs" delete_fips
step "delete load balancer (cascade)" os loadbalancer delete --cascade --wait "$P-lb"
step "delete server" os server delete --wait "$P-server"
step "delete port" os port delete "$P-port"
step "delete server group" os server group delete "$P-group"
step "delete keypair" os keypair delete "$P-key"
step "delete application credential" os application credential delete "$P-appcred"
step "delete router" delete_router
step "delete subnet" os subnet delete "$P-subnet"
step "delete network" os network delete "$P-net"
step "delete security group" os security group delete "$P-sg"
step "leftovers.sh: nothing left" nothing_left
sed 's/^/    /' "$WORK/out"

note=""
if [[ -e "$WORK/shared-project" ]]; then
  note=" -- but the project was in use by someone else: leftovers.sh exit 0 not seen this time"
fi
printf '\nsmoke: PASSED in %ss (created and checked in %ss, %d steps)%s\n' \
  "$((SECONDS - started))" "$created_after" "${#STEP_NAMES[@]}" "$note"
