#!/usr/bin/env bash
# Starts a local OpenStack control plane on 127.0.0.1 from Debian bookworm's packages (Zed):
# MariaDB, RabbitMQ, memcached, Keystone, Glance, Placement, Nova (fake compute driver), Neutron
# (ML2/OVS with a fake agent) and Octavia (no-op amphorae). Bootstraps it like a real cloud (external
# network `public`, image `e2e-image`, flavors m1.*) and writes clouds.yaml (clouds `e2e`,
# `e2e-admin`) into the state directory.
#
# Usage: e2e/openstack/start.sh
#   E2E_STATE_DIR                    state root (default <repo>/.e2e); this uses its openstack/
#   E2E_OPENSTACK_DB_ROOT            MariaDB folder (default /dev/shm/istio-openstack-e2e)
#   E2E_OPENSTACK_SERVICE_TIMEOUT    seconds each service may take to become ready (default 180)
#
# Idempotent: services already running are left alone and only re-checked, so running it again
# (even while another start.sh runs: it waits for that one) is a health check. State is reused
# across stop.sh/start.sh; a state directory and database that do not belong together (e.g. the
# /dev/shm database lost by a reboot) are recreated from scratch.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TIMEOUT=${E2E_OPENSTACK_SERVICE_TIMEOUT:-180}
COMPUTE_HOST=e2e-compute
PHYSNET=physnet1
TEMPLATES=$OS_HOME/templates
PYDIR=$OS_HOME/python

started=$SECONDS
declare -A READY_AFTER=()
declare -A LAUNCHED_AT=()
ALREADY_RUNNING=()

mkdir -p "$OS_STATE" "$OS_ETC/placement" "$OS_LOG" "$OS_RUN" "$OS_DATA" "$OS_DB_ROOT"

# ---------------------------------------------------------------------------------------------
# One start at a time: a second start.sh waits for the first, then only re-checks health.
exec 9>"$OS_STATE/start.lock"
if ! flock -n 9; then
  log "another start.sh is running; waiting for it (at most 15 min), then re-checking health"
  flock -w 900 9 || die "another start.sh still holds $OS_STATE/start.lock after 15 min"
fi

if ((EUID != 0)); then
  die "start.sh runs the daemons as root (MariaDB/memcached drop to their users): run it as root"
fi

"$OS_HOME/install.sh"

# ---------------------------------------------------------------------------------------------
# Secrets (generated once per state directory) and the state/database pairing.
if [[ ! -s "$OS_STATE/secrets.env" ]]; then
  (
    umask 077
    {
      echo "DB_PASSWORD=$(openssl rand -hex 16)"
      echo "ADMIN_PASSWORD=$(openssl rand -hex 16)"
      echo "E2E_PASSWORD=$(openssl rand -hex 16)"
      echo "SERVICE_PASSWORD=$(openssl rand -hex 16)"
      echo "OCTAVIA_CA_PASSPHRASE=$(openssl rand -hex 16)"
      # Octavia: "must be 32, base64(url) compatible, characters long".
      echo "OCTAVIA_SERVER_CERTS_KEY=$(openssl rand -hex 16)"
      echo "OCTAVIA_HEARTBEAT_KEY=$(openssl rand -hex 16)"
    } >"$OS_STATE/secrets.env"
  )
fi
# shellcheck source=/dev/null
source "$OS_STATE/secrets.env"

any_running() {
  local name
  for name in "${OS_SERVICES[@]}"; do
    service_running "$name" && return 0
  done
  return 1
}

state_id=$(cat "$OS_STATE/instance-id" 2>/dev/null || true)
db_id=$(cat "$OS_DB_ROOT/instance-id" 2>/dev/null || true)
if [[ -z "$state_id" || "$state_id" != "$db_id" || ! -d "$OS_DB_DIR/mysql" ]]; then
  if any_running; then
    die "state $OS_STATE and database $OS_DB_DIR do not belong together while services run: run stop.sh first"
  fi
  log "fresh control plane: new database in $OS_DB_DIR, new data in $OS_DATA"
  rm -rf "$OS_DB_DIR" "$OS_DATA" "$OS_DB_ROOT/bootstrapped"
  mkdir -p "$OS_DATA"
  state_id=$(openssl rand -hex 8)
  printf '%s\n' "$state_id" >"$OS_STATE/instance-id"
  printf '%s\n' "$state_id" >"$OS_DB_ROOT/instance-id"
fi
BOOTSTRAPPED=false
[[ -f "$OS_DB_ROOT/bootstrapped" ]] && BOOTSTRAPPED=true

# ---------------------------------------------------------------------------------------------
# Render configs.
RENDER_VARS=(
  OS_STATE OS_ETC OS_LOG OS_RUN OS_DATA OS_DB_DIR OS_MYSQL_RUN OS_CLOUDS_YAML COMPUTE_HOST PHYSNET
  DB_PASSWORD ADMIN_PASSWORD E2E_PASSWORD SERVICE_PASSWORD
  OCTAVIA_CA_PASSPHRASE OCTAVIA_SERVER_CERTS_KEY OCTAVIA_HEARTBEAT_KEY
)
for tpl in my.cnf rabbitmq.conf keystone.conf keystone-uwsgi.ini placement-uwsgi.ini \
  glance-api.conf glance-api-paste.ini nova.conf nova-db.conf nova-api-paste.ini \
  neutron.conf ml2_conf.ini neutron-api-paste.ini octavia.conf octavia-worker.conf \
  octavia-uwsgi.ini; do
  render "$TEMPLATES/$tpl" "$OS_ETC/$tpl"
done
render "$TEMPLATES/placement.conf" "$OS_ETC/placement/placement.conf"
render "$TEMPLATES/clouds.yaml" "$OS_CLOUDS_YAML"
printf '[].\n' >"$OS_ETC/rabbitmq-enabled-plugins"

# The Octavia worker's network driver, importable with an entry point (a dist-info beside it).
mkdir -p "$OS_STATE/python/e2e_octavia_network-0.1.dist-info"
cp "$PYDIR/e2e_octavia_network.py" "$OS_STATE/python/"
printf 'Metadata-Version: 2.1\nName: e2e-octavia-network\nVersion: 0.1\n' \
  >"$OS_STATE/python/e2e_octavia_network-0.1.dist-info/METADATA"
printf '[octavia.network.drivers]\ne2e_noop_vip_cleanup_driver = e2e_octavia_network:NoopVipCleanupNetworkDriver\n' \
  >"$OS_STATE/python/e2e_octavia_network-0.1.dist-info/entry_points.txt"

mkdir -p "$OS_DATA/keystone" "$OS_DATA/glance/images" "$OS_DATA/glance/staging" \
  "$OS_DATA/glance/tasks" "$OS_DATA/glance/lock" "$OS_DATA/nova/instances" "$OS_DATA/nova/lock" \
  "$OS_DATA/neutron/lock" "$OS_DATA/octavia/certs/storage" "$OS_DATA/octavia/amphora/certs" \
  "$OS_DATA/octavia/lock" "$OS_DATA/rabbitmq" "$OS_LOG/rabbitmq" "$OS_MYSQL_RUN"
chmod 755 "$OS_DB_ROOT"
chown mysql:mysql "$OS_MYSQL_RUN"

# Octavia's local CA: an encrypted key with its passphrase, and a client certificate signed by it.
CERTS=$OS_DATA/octavia/certs
if [[ ! -s "$CERTS/client.pem" ]]; then
  (
    umask 077
    openssl genrsa -aes256 -passout "pass:$OCTAVIA_CA_PASSPHRASE" -out "$CERTS/ca.key" 2048
    openssl req -x509 -new -key "$CERTS/ca.key" -passin "pass:$OCTAVIA_CA_PASSPHRASE" -sha256 \
      -days 3650 -subj "/CN=e2e-octavia-ca" -out "$CERTS/ca.pem"
    openssl req -new -newkey rsa:2048 -nodes -keyout "$CERTS/client.key" \
      -subj "/CN=e2e-octavia-controller" -out "$CERTS/client.csr"
    openssl x509 -req -in "$CERTS/client.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
      -passin "pass:$OCTAVIA_CA_PASSPHRASE" -CAcreateserial -sha256 -days 3650 \
      -out "$CERTS/client.crt"
    cat "$CERTS/client.crt" "$CERTS/client.key" >"$CERTS/client.pem"
  ) >>"$OS_LOG/octavia-ca.log" 2>&1 || fail_service octavia-ca "could not create the local CA"
fi

export OS_CLIENT_CONFIG_FILE=$OS_CLOUDS_YAML

# ---------------------------------------------------------------------------------------------
# Helpers for launching and timing.
launch() { # launch NAME [VAR=value...] -- COMMAND...
  local name=$1
  if service_running "$name"; then
    ALREADY_RUNNING+=("$name")
  fi
  LAUNCHED_AT[$name]=$SECONDS
  start_daemon "$@"
}

ready() { # ready NAME CHECK...: bounded wait, then records the time since launch
  local name=$1
  shift
  wait_until "$name" "$TIMEOUT" "$@"
  READY_AFTER[$name]=$((SECONDS - ${LAUNCHED_AT[$name]:-$started}))
  log "$name ready (${READY_AFTER[$name]}s)"
}

py() { # runs a Python entry point of Debian's packages under a program name
  local program=$1
  shift
  "$OS_PY" "$PYDIR/launch.py" "$program" "$@"
}

mysql_root() { mariadb --defaults-file="$OS_ETC/my.cnf" -uroot "$@"; }

NOVA_CONF=(--config-file "$OS_ETC/nova.conf")
NOVA_DB_CONF=(--config-file "$OS_ETC/nova.conf" --config-file "$OS_ETC/nova-db.conf")
NEUTRON_CONF=(--config-file "$OS_ETC/neutron.conf" --config-file "$OS_ETC/ml2_conf.ini")
OCTAVIA_CONF=(--config-file "$OS_ETC/octavia.conf")

# ---------------------------------------------------------------------------------------------
# 1. Infrastructure: MariaDB, epmd + RabbitMQ, memcached.
if [[ ! -d "$OS_DB_DIR/mysql" ]]; then
  mkdir -p "$OS_DB_DIR"
  chown mysql:mysql "$OS_DB_DIR"
  mariadb-install-db --defaults-file="$OS_ETC/my.cnf" --user=mysql --skip-test-db \
    --auth-root-authentication-method=socket >>"$OS_LOG/mariadb.log" 2>&1 ||
    fail_service mariadb "mariadb-install-db failed"
fi
launch mariadb -- /usr/sbin/mariadbd --defaults-file="$OS_ETC/my.cnf"

if service_running epmd || ! port_open 4369; then
  launch epmd -- /usr/bin/epmd -address 127.0.0.1 -port 4369
else
  log "epmd: port 4369 already served by another process; RabbitMQ will register there"
fi
launch rabbitmq HOME="$OS_DATA/rabbitmq" \
  RABBITMQ_CONF_ENV_FILE=/dev/null \
  RABBITMQ_NODENAME=e2e-openstack@localhost \
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 \
  RABBITMQ_CONFIG_FILE="$OS_ETC/rabbitmq.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$OS_ETC/rabbitmq-enabled-plugins" \
  RABBITMQ_MNESIA_BASE="$OS_DATA/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$OS_LOG/rabbitmq" \
  RABBITMQ_PID_FILE="$OS_DATA/rabbitmq/rabbitmq.pid" \
  ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=4369 \
  "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
  -- /usr/lib/rabbitmq/bin/rabbitmq-server
launch memcached -- /usr/bin/memcached -u memcache -l 127.0.0.1 -p 11211 -U 0 -m 64 -c 1024

ready mariadb mariadb-admin --defaults-file="$OS_ETC/my.cnf" -uroot ping
if service_running epmd; then ready epmd port_open 4369; fi
ready memcached port_open 11211
ready rabbitmq port_open 5672

# ---------------------------------------------------------------------------------------------
# 2. Databases and schema (skipped once bootstrapped). The syncs run in parallel.
sync_jobs=()
run_sync() { # run_sync NAME COMMAND...: a background job logging to $OS_LOG/NAME.log
  local name=$1
  shift
  ("$@") >>"$OS_LOG/$name.log" 2>&1 &
  sync_jobs+=("$name:$!")
}
wait_sync() { # wait_sync NAME: waits for that job, fails the step with its log tail
  local entry
  for entry in "${sync_jobs[@]}"; do
    if [[ "${entry%%:*}" == "$1" ]]; then
      wait "${entry#*:}" || fail_service "$1" "failed"
      return 0
    fi
  done
}

if [[ "$BOOTSTRAPPED" != true ]]; then
  t=$SECONDS
  dbs=(keystone glance placement nova_api nova nova_cell0 neutron octavia)
  sql="CREATE USER IF NOT EXISTS 'openstack'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';"
  for db in "${dbs[@]}"; do
    sql+="CREATE DATABASE IF NOT EXISTS $db; GRANT ALL PRIVILEGES ON $db.* TO 'openstack'@'127.0.0.1';"
  done
  mysql_root -e "$sql" || fail_service mariadb "could not create the databases"

  keystone_sync() {
    local conf=(--config-file "$OS_ETC/keystone.conf")
    keystone-manage "${conf[@]}" db_sync
    [[ -d "$OS_DATA/keystone/fernet-keys" ]] ||
      keystone-manage "${conf[@]}" fernet_setup --keystone-user root --keystone-group root
    [[ -d "$OS_DATA/keystone/credential-keys" ]] ||
      keystone-manage "${conf[@]}" credential_setup --keystone-user root --keystone-group root
    keystone-manage "${conf[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
      --bootstrap-admin-url http://127.0.0.1:5000/v3/ \
      --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
      --bootstrap-public-url http://127.0.0.1:5000/v3/ \
      --bootstrap-region-id RegionOne
  }
  nova_sync() {
    py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" api_db sync
    py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" cell_v2 map_cell0 \
      --database_connection "mysql+pymysql://openstack:$DB_PASSWORD@127.0.0.1/nova_cell0"
    local cells
    cells=$(py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" cell_v2 list_cells)
    if ! grep -qw cell1 <<<"$cells"; then
      py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" cell_v2 create_cell --name cell1
    fi
    py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" db sync
  }
  run_sync keystone-sync keystone_sync
  run_sync glance-sync py glance-manage glance.cmd.manage:main \
    --config-file "$OS_ETC/glance-api.conf" db_sync
  run_sync placement-sync placement-manage --config-file "$OS_ETC/placement/placement.conf" db sync
  run_sync nova-sync nova_sync
  run_sync neutron-sync py neutron-db-manage neutron.db.migration.cli:main "${NEUTRON_CONF[@]}" \
    upgrade heads
  run_sync octavia-sync octavia-db-manage "${OCTAVIA_CONF[@]}" upgrade head
  wait_sync keystone-sync
  log "keystone database ready ($((SECONDS - t))s; other schema syncs continue)"
fi

# ---------------------------------------------------------------------------------------------
# 3. Keystone, then the identity objects every other service needs.
launch keystone -- /usr/bin/uwsgi-core --ini "$OS_ETC/keystone-uwsgi.ini"
ready keystone http_ok http://127.0.0.1:5000/v3
if [[ "$BOOTSTRAPPED" != true ]]; then
  t=$SECONDS
  E2E_PASSWORD=$E2E_PASSWORD SERVICE_PASSWORD=$SERVICE_PASSWORD \
    "$OS_PY" "$PYDIR/cloud.py" identity >>"$OS_LOG/bootstrap.log" 2>&1 ||
    fail_service bootstrap "keystone bootstrap (cloud.py identity) failed"
  log "identity bootstrapped ($((SECONDS - t))s)"
  t=$SECONDS
  for job in glance-sync placement-sync nova-sync neutron-sync octavia-sync; do
    wait_sync "$job"
  done
  log "all schemas synced (waited $((SECONDS - t))s more)"
fi

# ---------------------------------------------------------------------------------------------
# 4. The OpenStack services, launched together.
launch glance -- "$OS_PY" "$PYDIR/launch.py" glance-api glance.cmd.api:main \
  --config-file "$OS_ETC/glance-api.conf"
launch placement -- /usr/bin/uwsgi-core --ini "$OS_ETC/placement-uwsgi.ini"
launch nova-api -- "$OS_PY" "$PYDIR/launch.py" nova-api nova.cmd.api:main "${NOVA_DB_CONF[@]}"
launch neutron-server -- "$OS_PY" "$PYDIR/launch.py" neutron-server \
  neutron.cmd.eventlet.server:main "${NEUTRON_CONF[@]}"
launch octavia-api -- /usr/bin/uwsgi-core --ini "$OS_ETC/octavia-uwsgi.ini"
launch octavia-worker PYTHONPATH="$OS_STATE/python" -- "$OS_PY" "$PYDIR/launch.py" \
  octavia-worker octavia.cmd.octavia_worker:main "${OCTAVIA_CONF[@]}" \
  --config-file "$OS_ETC/octavia-worker.conf"
launch nova-conductor -- "$OS_PY" "$PYDIR/launch.py" nova-conductor nova.cmd.conductor:main \
  "${NOVA_DB_CONF[@]}"
launch nova-scheduler -- "$OS_PY" "$PYDIR/launch.py" nova-scheduler nova.cmd.scheduler:main \
  "${NOVA_DB_CONF[@]}"
launch nova-compute -- "$OS_PY" "$PYDIR/launch.py" nova-compute nova.cmd.compute:main \
  "${NOVA_CONF[@]}"

ready placement http_ok http://127.0.0.1:8778/
ready glance http_ok http://127.0.0.1:9292/
ready nova-api http_ok http://127.0.0.1:8774/
ready neutron-server http_ok http://127.0.0.1:9696/
ready octavia-api http_ok http://127.0.0.1:9876/
# The non-API services: alive now; their registration is checked through the APIs below.
for name in octavia-worker nova-conductor nova-scheduler nova-compute; do
  service_running "$name" || fail_service "$name" "the process exited"
done

# ---------------------------------------------------------------------------------------------
# 5. The fake Open vSwitch agent on the compute host (one RPC report_state).
t=$SECONDS
"$OS_PY" "$PYDIR/fake_ovs_agent.py" --config-file "$OS_ETC/neutron.conf" --host "$COMPUTE_HOST" \
  --physnet "$PHYSNET" --bridge br-ex --timeout "$TIMEOUT" >>"$OS_LOG/fake-ovs-agent.log" 2>&1 ||
  fail_service fake-ovs-agent "no answer from neutron-server"
READY_AFTER[fake-ovs-agent]=$((SECONDS - t))
log "fake Open vSwitch agent registered for $COMPUTE_HOST (${READY_AFTER[fake-ovs-agent]}s)"

# ---------------------------------------------------------------------------------------------
# 6. Map the compute host into cell1 once nova-compute has registered its node.
t=$SECONDS
deadline=$((SECONDS + TIMEOUT))
until [[ -n "$(mysql_root -N -e "SELECT host FROM nova.compute_nodes WHERE deleted = 0 AND host = '$COMPUTE_HOST'" 2>/dev/null)" ]]; do
  service_running nova-compute || fail_service nova-compute "the process exited"
  ((SECONDS < deadline)) || fail_service nova-compute "no compute node registered after ${TIMEOUT}s"
  sleep 1
done
READY_AFTER[nova-compute]=$((SECONDS - ${LAUNCHED_AT[nova-compute]}))
if [[ -z "$(mysql_root -N -e "SELECT host FROM nova_api.host_mappings WHERE host = '$COMPUTE_HOST'")" ]]; then
  py nova-manage nova.cmd.manage:main "${NOVA_DB_CONF[@]}" cell_v2 discover_hosts --verbose \
    >>"$OS_LOG/nova-manage.log" 2>&1 || fail_service nova-manage "discover_hosts failed"
  [[ -n "$(mysql_root -N -e "SELECT host FROM nova_api.host_mappings WHERE host = '$COMPUTE_HOST'")" ]] ||
    fail_service nova-manage "discover_hosts did not map $COMPUTE_HOST"
fi
log "compute host $COMPUTE_HOST registered and mapped ($((SECONDS - t))s)"

# ---------------------------------------------------------------------------------------------
# 7. Health through the APIs, then what a real cloud already has.
t=$SECONDS
COMPUTE_HOST=$COMPUTE_HOST "$OS_PY" "$PYDIR/cloud.py" health --timeout "$TIMEOUT" \
  >>"$OS_LOG/bootstrap.log" 2>&1 || fail_service bootstrap "health check failed"
log "health checked through the APIs ($((SECONDS - t))s)"
t=$SECONDS
PHYSNET=$PHYSNET OS_DATA=$OS_DATA "$OS_PY" "$PYDIR/cloud.py" resources \
  >>"$OS_LOG/bootstrap.log" 2>&1 || fail_service bootstrap "cloud resources failed"
log "cloud resources ready ($((SECONDS - t))s)"
touch "$OS_DB_ROOT/bootstrapped"

# ---------------------------------------------------------------------------------------------
# Report.
printf '\n%-16s %s\n' SERVICE "READY AFTER (s, from its launch)"
for name in "${OS_SERVICES[@]}" fake-ovs-agent; do
  [[ -n "${READY_AFTER[$name]:-}" ]] || continue
  note=""
  for running in "${ALREADY_RUNNING[@]}"; do
    [[ "$running" == "$name" ]] && note=" (was already running)"
  done
  printf '%-16s %s%s\n' "$name" "${READY_AFTER[$name]}" "$note"
done
pss_kib=$(memory_pss_kib)
printf '\ntotal: %ss; memory (PSS of all processes): %s MiB\n' "$((SECONDS - started))" \
  "$((pss_kib / 1024))"
printf 'clouds.yaml: %s\n' "$OS_CLOUDS_YAML"
printf '  export OS_CLIENT_CONFIG_FILE=%s\n  export OS_CLOUD=e2e    # or e2e-admin\n' \
  "$OS_CLOUDS_YAML"
