#!/usr/bin/env bash
# Stops the local OpenStack control plane that start.sh started, by its pid files: TERM to each
# daemon's process group, a bounded wait, then KILL. Missing or stale pid files are fine.
#
# Usage: e2e/openstack/stop.sh [--purge]
#   --purge   also delete the state directory (configs, logs, data, clouds.yaml) and the database
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PURGE=false
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=true ;;
    -h | --help)
      sed -n '2,7p' "$0"
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: stop.sh [--purge])" ;;
  esac
done

GRACE=${E2E_OPENSTACK_STOP_TIMEOUT:-20}
started=$SECONDS

# Alive = some member of the process group is not a zombie (init may reap orphans late).
group_alive() { pgrep -g "$1" -r R,S,D,T,t,I,W,X >/dev/null; }

# stop_tier NAME...: TERM the process group of each (each daemon leads its own group: setsid), so
# workers go too; then wait for all of them (bounded), KILL what is left.
stop_tier() {
  local name pid deadline
  local -A pids=()
  for name in "$@"; do
    if pid=$(service_pid "$name"); then
      pids[$name]=$pid
      kill -TERM -- "-$pid" 2>/dev/null || true
    else
      rm -f "$OS_RUN/$name.pid"
    fi
  done
  deadline=$((SECONDS + GRACE))
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    while group_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if group_alive "$pid"; then
      log "$name (pid $pid) still running after ${GRACE}s: KILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$OS_RUN/$name.pid"
    log "$name stopped (pid $pid)"
  done
}

if [[ -d "$OS_RUN" ]]; then
  # OpenStack services first (together), then the messaging and cache, MariaDB last.
  stop_tier octavia-worker octavia-api neutron-server nova-compute nova-scheduler nova-conductor \
    nova-api placement glance keystone
  stop_tier memcached rabbitmq
  stop_tier epmd mariadb
fi

if [[ "$PURGE" == true ]]; then
  # Only our own folders: the state dir's openstack/ and the project's /dev/shm folder.
  rm -rf "$OS_STATE" "$OS_DB_ROOT"
  log "purged $OS_STATE and $OS_DB_ROOT"
fi
log "stopped in $((SECONDS - started))s"
