# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared paths and helpers of the local OpenStack control plane scripts (sourced, not run).
#
# Layout:
#   e2e/openstack/templates/   configs with @NAME@ placeholders, rendered into $OS_ETC
#   e2e/openstack/python/      helpers run with Debian's /usr/bin/python3
#   $OS_STATE/                 ${E2E_STATE_DIR:-<repo>/.e2e}/openstack: etc/ log/ run/ data/ clouds.yaml
#   $OS_DB_DIR                 MariaDB datadir, on /dev/shm (fast fsync; lost on reboot)

OS_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$OS_HOME/../.." && pwd)
OS_STATE=${E2E_STATE_DIR:-$REPO_ROOT/.e2e}/openstack
OS_ETC=$OS_STATE/etc
OS_LOG=$OS_STATE/log
OS_RUN=$OS_STATE/run
OS_DATA=$OS_STATE/data
OS_DB_ROOT=${E2E_OPENSTACK_DB_ROOT:-/dev/shm/istio-openstack-e2e}
OS_DB_DIR=$OS_DB_ROOT/mariadb
# MariaDB's socket and pid file sit beside its datadir, not in the state dir: mariadbd runs as the
# mysql user, which cannot reach a state dir inside a private checkout (e.g. a mktemp -d clone).
OS_MYSQL_RUN=$OS_DB_ROOT/run
OS_PY=/usr/bin/python3
OS_CLOUDS_YAML=$OS_STATE/clouds.yaml
# Every daemon started here carries this variable in its environment (handy with ps e).
OS_MARKER="E2E_OPENSTACK_STATE=$OS_STATE"

# The daemons, in start order; stop.sh stops them in reverse.
OS_SERVICES=(
  mariadb epmd rabbitmq memcached keystone glance placement
  nova-api nova-conductor nova-scheduler nova-compute neutron-server octavia-api octavia-worker
)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
  printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
  exit 1
}

# The last lines of a service's log, for failure messages.
log_tail() {
  local name=$1 file="$OS_LOG/$1.log"
  if [[ -s "$file" ]]; then
    printf -- '--- last 30 lines of %s ---\n' "$file" >&2
    tail -n 30 "$file" >&2
    printf -- '--- end of %s ---\n' "$file" >&2
  else
    printf -- '--- %s: no log at %s ---\n' "$name" "$file" >&2
  fi
}

fail_service() {
  local name=$1
  shift
  printf '[%s] ERROR: %s: %s\n' "$(date +%H:%M:%S)" "$name" "$*" >&2
  log_tail "$name"
  exit 1
}

# Start time of a process (clock ticks since boot, field 22 of /proc/PID/stat).
proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  awk '{print $20}' <<<"$stat"
}

# pid of a running daemon we started, or nothing (exit 1). A pid file holds "PID STARTTIME": a pid
# is trusted only while the process with that pid still has that start time, so no signal ever
# goes to a recycled pid. (The environment cannot serve: setproctitle overwrites it.)
service_pid() {
  local name=$1 pid start now
  [[ -r "$OS_RUN/$name.pid" ]] || return 1
  read -r pid start <"$OS_RUN/$name.pid" || true
  [[ "$pid" =~ ^[0-9]+$ && -n "$start" ]] || return 1
  now=$(proc_start_time "$pid") || return 1
  [[ "$now" == "$start" ]] || return 1
  printf '%s\n' "$pid"
}

service_running() { service_pid "$1" >/dev/null; }

# start_daemon NAME [VAR=value ...] -- COMMAND [ARGS...]
# Runs COMMAND in its own session (so it and its children form one process group whose id is the
# pid we record), stdout/stderr appended to $OS_LOG/NAME.log. No-op when already running.
start_daemon() {
  local name=$1
  shift
  local envs=("$OS_MARKER")
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    envs+=("$1")
    shift
  done
  [[ "${1:-}" == "--" ]] || die "start_daemon $name: missing --"
  shift
  if service_running "$name"; then
    return 0
  fi
  printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$OS_LOG/$name.log"
  # setsid execs directly (a background job of a non-interactive shell is no group leader), so $!
  # is the daemon's own pid and the leader of its new process group.
  # fd 9 is start.sh's lock: the daemon must not inherit (and so hold) it.
  env "${envs[@]}" setsid "$@" >>"$OS_LOG/$name.log" 2>&1 </dev/null 9>&- &
  local pid=$!
  printf '%s %s\n' "$pid" "$(proc_start_time "$pid")" >"$OS_RUN/$name.pid"
}

# wait_until NAME TIMEOUT_SECONDS COMMAND [ARGS...]
# Polls COMMAND every second until it succeeds; fails the step (with the log tail) when the time is
# up or when the daemon NAME has died meanwhile.
wait_until() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! service_running "$name"; then
      fail_service "$name" "the process exited before it became ready"
    fi
    if ((SECONDS >= deadline)); then
      fail_service "$name" "not ready after ${timeout}s (check: $*)"
    fi
    sleep 1
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# An HTTP endpoint answers with a status below 500 (a version document, or 401 for protected roots).
http_ok() {
  local code
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1") || return 1
  [[ "$code" =~ ^[1-4][0-9][0-9]$ ]]
}

# render TEMPLATE DEST: replaces each @NAME@ with the value of the shell variable NAME (only names
# listed in RENDER_VARS); refuses to leave a placeholder unreplaced.
render() {
  local src=$1 dst=$2 content var
  content=$(<"$src")
  for var in "${RENDER_VARS[@]}"; do
    content=${content//"@${var}@"/"${!var}"}
  done
  if grep -qE '@[A-Z][A-Z0-9_]*@' <<<"$content"; then
    die "render $src: unreplaced placeholder(s): $(grep -oE '@[A-Z][A-Z0-9_]*@' <<<"$content" | sort -u | tr '\n' ' ')"
  fi
  (umask 077 && printf '%s\n' "$content" >"$dst.tmp")
  mv "$dst.tmp" "$dst"
}

# Proportional memory (PSS, KiB) of every process in the process groups of our daemons.
memory_pss_kib() {
  local total=0 name pid p pss
  for name in "${OS_SERVICES[@]}"; do
    pid=$(service_pid "$name") || continue
    for p in $(pgrep -g "$pid" 2>/dev/null); do
      pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
      total=$((total + ${pss:-0}))
    done
  done
  printf '%s\n' "$total"
}
