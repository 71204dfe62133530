#!/usr/bin/env bash
# Runs a real etcd + kube-apiserver on 127.0.0.1 with a kubeadm-style PKI directory.
#
#   apiserver.sh start <pki-dir> <state-dir> [<kube-apiserver static pod manifest>]
#   apiserver.sh start-controller-manager <pki-dir> <state-dir> <kubeconfig> <kcm static pod manifest>
#   apiserver.sh stop  <state-dir>              # kube-controller-manager (if started), kube-apiserver, etcd
#   apiserver.sh flags <pki-dir> [<manifest>]   # only print the kube-apiserver flags, one a line
#
# <pki-dir> has the /etc/kubernetes/pki layout written by `kubeadm init phase certs all`:
#   ca.crt/key, apiserver.crt/key, apiserver-kubelet-client.crt/key, apiserver-etcd-client.crt/key,
#   front-proxy-ca.crt/key, front-proxy-client.crt/key, sa.key/sa.pub,
#   etcd/ca.crt/key, etcd/server.crt/key, etcd/peer.crt/key
# <state-dir> receives etcd's data dir, both logs, the pids (etcd.pid, kube-apiserver.pid) and
# endpoints.env (APISERVER_URL, ETCD_CLIENT_URL, ... as shell assignments).
#
# kube-apiserver flags. With a manifest (rendered by `kubeadm init phase control-plane apiserver`),
# its `command` is taken as is, except for these rewrites (each one is printed when applied):
#   R1 every path under the manifest's certificate dir (the dirname of --client-ca-file, normally
#      /etc/kubernetes/pki)            -> the same path under <pki-dir>
#   R2 --etcd-servers                 -> https://127.0.0.1:<etcd client port> (the etcd started here)
#   R3 --advertise-address            -> 127.0.0.1
#   R4 --bind-address                 -> 127.0.0.1 (kubeadm does not set it; the default is 0.0.0.0)
#   R5 --secure-port                  -> $APISERVER_PORT (default 6443)
#   R6 --endpoint-reconciler-type     -> none: the `kubernetes` Endpoints would carry the advertise
#      address, and 127.0.0.1 is refused there (loopback); nothing here routes to it anyway.
#   R7 every other path under /etc/kubernetes/ or /var/log/kubernetes/ (the files a control-plane
#      node's user data writes for the API server: audit policy, encryption, admission and
#      authentication configuration, the audit log) -> the same path under $APISERVER_HOST_ROOT,
#      the directory where the node's files were laid out; the audit log's directory is created.
#      Without APISERVER_HOST_ROOT such a flag is refused: it would read this host's /etc.
#   Nothing else is dropped: no flag of kubeadm's apiserver command needs a kubelet or the host.
#   What does is outside `command` and not used: hostNetwork, the hostPath volumes
#   (/etc/ssl/certs, /etc/ca-certificates, /usr/share/ca-certificates, ...; the binary reads the
#   host's trust store directly), the liveness/readiness/startup probes (replaced by the /readyz
#   wait below), resource requests and priorityClassName.
#   `--<flag>=<value>` items only; a manifest with any other shape is refused loudly.
# Without a manifest the command is kubeadm v1.33's default apiserver command for a
# ClusterConfiguration with default networking (service subnet 10.96.0.0/12), written out below
# (default_apiserver_flags), with the same rewrites applied.
#
# kube-controller-manager (start-controller-manager, after start): the `command` of the manifest
# rendered by `kubeadm init phase control-plane controller-manager`, with these rewrites:
#   C1 every path under the manifest's certificate dir (the dirname of --root-ca-file) -> <pki-dir>
#   C2 --kubeconfig, --authentication-kubeconfig, --authorization-kubeconfig -> <kubeconfig>
#      (kubeadm's controller-manager.conf, written by `kubeadm init phase kubeconfig controller-manager`)
#   C3 --bind-address                 -> 127.0.0.1 (kubeadm already sets it)
#   C4 --secure-port                  -> $CONTROLLER_MANAGER_PORT (default: a free port)
# Its garbage collector and namespace controller are what finish foreground deletes and namespace
# deletions (the Kubernetes provider's deletes wait for them). Ready when /healthz answers 200.
#
# etcd flags follow kubeadm's etcd static pod (client and peer TLS with client-cert auth, the
# etcd/ certificates of <pki-dir>), bound to 127.0.0.1 only; not set: --listen-metrics-urls
# (metrics stay on the client URL) and the experimental flags of newer etcd releases.
#
# Environment:
#   E2E_KUBERNETES_BIN_DIR   dir with etcd, kube-apiserver (default: last line of toolchain.sh)
#   APISERVER_PORT           kube-apiserver secure port (default 6443)
#   ETCD_CLIENT_PORT, ETCD_PEER_PORT   etcd ports (default: free ports chosen here)
#   APISERVER_READY_TIMEOUT  seconds to wait for /readyz (default 60)
#   APISERVER_HOST_ROOT      where the node's /etc/kubernetes and /var/log/kubernetes live (R7)
#   APISERVER_TLS_SERVER_NAME  name or IP the serving certificate is verified for while waiting
#                            for /readyz (default 127.0.0.1). Set it when the certificate is made
#                            for the real endpoint (e.g. the cluster's floating IP) and not for
#                            loopback: curl then connects to 127.0.0.1 (--connect-to) but checks
#                            the certificate against this name. Recorded in endpoints.env.
#   ETCD_READY_TIMEOUT       seconds to wait for etcd /health (default 30)
#   STOP_TIMEOUT             seconds to wait for each process to exit on stop (default 20)
#   CONTROLLER_MANAGER_PORT  kube-controller-manager secure port (default: a free port)
#   CONTROLLER_MANAGER_READY_TIMEOUT  seconds to wait for its /healthz (default 60)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOOPBACK=127.0.0.1

log() { printf '[apiserver] %s\n' "$*" >&2; }
die() { printf '[apiserver] ERROR: %s\n' "$*" >&2; exit 1; }
usage() {
  die "usage: $0 start <pki-dir> <state-dir> [<manifest>] | start-controller-manager <pki-dir> <state-dir> <kubeconfig> <manifest> | stop <state-dir> | flags <pki-dir> [<manifest>]"
}

# ---------------------------------------------------------------------------------------------
# processes, by pid file only
# ---------------------------------------------------------------------------------------------
# True if <pid> runs (not a zombie) and its executable is named <name>: a recycled pid is not ours.
pid_is() { # pid name
  local pid="$1" state exe
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -d "/proc/$pid" ]] || return 1
  state="$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  [[ "$(basename "${exe% (deleted)}")" == "$2" ]]
}

stop_one() { # state-dir name
  local pid_file="$1/$2.pid" pid deadline
  [[ -f "$pid_file" ]] || { log "$2: no pid file in $1; nothing to stop"; return 0; }
  pid="$(cat "$pid_file")"
  if ! pid_is "$pid" "$2"; then
    log "$2: pid $pid is not running (or not $2); removing the stale pid file"
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(( SECONDS + ${STOP_TIMEOUT:-20} ))
  while pid_is "$pid" "$2" && (( SECONDS < deadline )); do sleep 0.2; done
  if pid_is "$pid" "$2"; then
    log "$2: pid $pid still running after SIGTERM + ${STOP_TIMEOUT:-20}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$(( SECONDS + 5 ))
    while pid_is "$pid" "$2" && (( SECONDS < deadline )); do sleep 0.2; done
    pid_is "$pid" "$2" && die "$2: pid $pid survived SIGKILL"
  fi
  rm -f "$pid_file"
  log "$2: stopped (pid $pid)"
}

cmd_stop() { # state-dir
  [[ -d "$1" ]] || die "state dir $1 does not exist"
  stop_one "$1" kube-controller-manager
  stop_one "$1" kube-apiserver
  stop_one "$1" etcd
}

# ---------------------------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_in_use() { # port
  ! python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
}

# kubeadm v1.33's apiserver command (cmd/kubeadm/app/phases/controlplane/manifests.go,
# getAPIServerCommand) for default networking, with its certificate dir as a placeholder.
default_apiserver_flags() {
  local d=/etc/kubernetes/pki
  cat <<EOF
--advertise-address=$LOOPBACK
--allow-privileged=true
--authorization-mode=Node,RBAC
--client-ca-file=$d/ca.crt
--enable-admission-plugins=NodeRestriction
--enable-bootstrap-token-auth=true
--etcd-cafile=$d/etcd/ca.crt
--etcd-certfile=$d/apiserver-etcd-client.crt
--etcd-keyfile=$d/apiserver-etcd-client.key
--etcd-servers=https://$LOOPBACK:2379
--kubelet-client-certificate=$d/apiserver-kubelet-client.crt
--kubelet-client-key=$d/apiserver-kubelet-client.key
--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
--proxy-client-cert-file=$d/front-proxy-client.crt
--proxy-client-key-file=$d/front-proxy-client.key
--requestheader-allowed-names=front-proxy-client
--requestheader-client-ca-file=$d/front-proxy-ca.crt
--requestheader-extra-headers-prefix=X-Remote-Extra-
--requestheader-group-headers=X-Remote-Group
--requestheader-username-headers=X-Remote-User
--secure-port=6443
--service-account-issuer=https://kubernetes.default.svc.cluster.local
--service-account-key-file=$d/sa.pub
--service-account-signing-key-file=$d/sa.key
--service-cluster-ip-range=10.96.0.0/12
--tls-cert-file=$d/apiserver.crt
--tls-private-key-file=$d/apiserver.key
EOF
}

# The command of the manifest's container <name> (kube-apiserver, kube-controller-manager), one
# --flag=value per line (binary dropped).
manifest_flags() { # manifest name
  if ! python3 -c 'import yaml' 2>/dev/null; then
    die "reading a manifest needs python3 with PyYAML (apt-get install python3-yaml)"
  fi
  python3 - "$1" "$2" <<'PY' || die "cannot read a $2 command from $1 (reason above)"
import sys, yaml
name = sys.argv[2]
with open(sys.argv[1]) as f:
    pod = yaml.safe_load(f)
containers = [c for c in pod["spec"]["containers"] if c.get("name") == name]
if len(containers) != 1:
    sys.exit("no single container named %s" % name)
command = list(containers[0].get("command") or []) + list(containers[0].get("args") or [])
if not command or command[0] != name:
    sys.exit("command does not start with %s: %r" % (name, command[:1]))
for item in command[1:]:
    if not item.startswith("--") or "=" not in item or "\n" in item:
        sys.exit("unsupported command item (want --flag=value): %r" % item)
    print(item)
PY
}

# Applies R1-R7 to the flags on stdin; prints the rewrites on stderr.
rewrite_flags() { # pki-dir etcd-url port
  local pki="$1" etcd_url="$2" port="$3" line name value reason src_pki="" new saw_bind=0 saw_reconciler=0
  local flags=()
  mapfile -t flags
  for line in "${flags[@]}"; do
    [[ "$line" == --client-ca-file=* ]] && src_pki="$(dirname "${line#*=}")"
  done
  [[ -n "$src_pki" ]] || die "the kube-apiserver command has no --client-ca-file; cannot tell its certificate dir"
  for line in "${flags[@]}"; do
    name="${line%%=*}"
    value="${line#*=}"
    new="$value"
    case "$name" in
      --etcd-servers) new="$etcd_url"; reason="R2 the etcd started here" ;;
      --advertise-address) new="$LOOPBACK"; reason="R3 loopback" ;;
      --bind-address) new="$LOOPBACK"; reason="R4 listen on loopback only"; saw_bind=1 ;;
      --secure-port) new="$port"; reason="R5 APISERVER_PORT" ;;
      --endpoint-reconciler-type) new="none"; reason="R6 no Endpoints for a loopback address"; saw_reconciler=1 ;;
      *)
        if [[ "$value" == "$src_pki"/* ]]; then
          new="$pki/${value#"$src_pki"/}"; reason="R1 certificate dir"
        elif [[ "$value" == /etc/kubernetes/* || "$value" == /var/log/kubernetes/* ]]; then
          [[ -n "${APISERVER_HOST_ROOT:-}" ]] \
            || die "$name=$value reads a node file; set APISERVER_HOST_ROOT to the node's laid-out root"
          new="${APISERVER_HOST_ROOT%/}$value"; reason="R7 the node's files"
          [[ "$name" == --audit-log-path ]] && mkdir -p "$(dirname "$new")"
        fi ;;
    esac
    if [[ "$new" != "$value" ]]; then
      printf '[apiserver]   rewrite %s: %s -> %s (%s)\n' "$name" "$value" "$new" "$reason" >&2
    fi
    printf '%s=%s\n' "$name" "$new"
  done
  if [[ "$saw_bind" -eq 0 ]]; then
    printf '[apiserver]   add --bind-address=%s (R4 listen on loopback only)\n' "$LOOPBACK" >&2
    printf -- '--bind-address=%s\n' "$LOOPBACK"
  fi
  if [[ "$saw_reconciler" -eq 0 ]]; then
    printf '[apiserver]   add --endpoint-reconciler-type=none (R6 no Endpoints for a loopback address)\n' >&2
    printf -- '--endpoint-reconciler-type=none\n'
  fi
}

apiserver_flags() { # pki-dir manifest etcd-url port
  local raw
  if [[ -n "$2" ]]; then
    raw="$(manifest_flags "$2" kube-apiserver)" || exit 1
    log "kube-apiserver flags: from $2, with these rewrites:"
    printf '%s\n' "$raw" | rewrite_flags "$1" "$3" "$4"
  else
    log "kube-apiserver flags: built-in kubeadm v1.33 default set, with these rewrites:"
    default_apiserver_flags | rewrite_flags "$1" "$3" "$4"
  fi
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------
bin_dir() {
  if [[ -n "${E2E_KUBERNETES_BIN_DIR:-}" ]]; then
    printf '%s\n' "$E2E_KUBERNETES_BIN_DIR"
  else
    "$HERE/toolchain.sh" | tail -n 1
  fi
}

check_pki() { # pki-dir
  local f missing=()
  for f in ca.crt ca.key apiserver.crt apiserver.key apiserver-kubelet-client.crt \
           apiserver-kubelet-client.key apiserver-etcd-client.crt apiserver-etcd-client.key \
           front-proxy-ca.crt front-proxy-client.crt front-proxy-client.key sa.key sa.pub \
           etcd/ca.crt etcd/server.crt etcd/server.key etcd/peer.crt etcd/peer.key; do
    [[ -f "$1/$f" ]] || missing+=("$f")
  done
  [[ "${#missing[@]}" -eq 0 ]] || die "$1 lacks: ${missing[*]}"
}

show_logs_and_die() { # state-dir message
  local f
  for f in etcd.log kube-apiserver.log; do
    if [[ -f "$1/$f" ]]; then
      printf '[apiserver] ----- last 40 lines of %s -----\n' "$1/$f" >&2
      tail -n 40 "$1/$f" >&2
    fi
  done
  cmd_stop "$1" || true
  die "$2"
}

# Polls an HTTPS URL until it answers 200, or the timeout passes.
wait_https_200() { # url timeout curl-args...
  local url="$1" timeout="$2" code deadline
  shift 2
  deadline=$(( SECONDS + timeout ))
  while (( SECONDS < deadline )); do
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$url" 2>/dev/null || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.5
  done
  return 1
}

prepare() { # pki-dir state-dir manifest  -> sets globals (state-dir "" for `flags`)
  PKI="$(cd "$1" && pwd)" || die "pki dir $1 does not exist"
  STATE=""
  if [[ -n "$2" ]]; then
    mkdir -p "$2"
    STATE="$(cd "$2" && pwd)"
  fi
  MANIFEST=""
  if [[ -n "${3:-}" ]]; then
    [[ -f "$3" ]] || die "manifest $3 does not exist"
    MANIFEST="$(cd "$(dirname "$3")" && pwd)/$(basename "$3")"
  fi
  check_pki "$PKI"
  API_PORT="${APISERVER_PORT:-6443}"
  ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-$(free_port)}"
  ETCD_PEER_PORT="${ETCD_PEER_PORT:-$(free_port)}"
  [[ "$ETCD_CLIENT_PORT" != "$ETCD_PEER_PORT" ]] || ETCD_PEER_PORT="$(free_port)"
  ETCD_URL="https://$LOOPBACK:$ETCD_CLIENT_PORT"
}

cmd_flags() { # pki-dir [manifest]
  prepare "$1" "" "${2:-}"
  apiserver_flags "$PKI" "$MANIFEST" "$ETCD_URL" "$API_PORT"
}

cmd_start() { # pki-dir state-dir [manifest]
  prepare "$@"
  local name port bin t0 flags=()
  for name in etcd kube-apiserver; do
    if [[ -f "$STATE/$name.pid" ]] && pid_is "$(cat "$STATE/$name.pid")" "$name"; then
      die "$name already runs from $STATE (pid $(cat "$STATE/$name.pid")); stop it first: $0 stop $STATE"
    fi
  done
  for port in "$API_PORT" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT"; do
    port_in_use "$port" && die "port $LOOPBACK:$port is already in use"
  done
  bin="$(bin_dir)"
  [[ -x "$bin/etcd" && -x "$bin/kube-apiserver" ]] || die "no etcd / kube-apiserver in $bin"
  local flag_lines
  # A command substitution, not a process substitution: a refused flag stops the start here.
  flag_lines="$(apiserver_flags "$PKI" "$MANIFEST" "$ETCD_URL" "$API_PORT")" || die "cannot build the kube-apiserver flags (reason above)"
  mapfile -t flags <<<"$flag_lines"
  [[ "${#flags[@]}" -gt 0 && -n "${flags[0]}" ]] || die "no kube-apiserver flags"
  : >"$STATE/etcd.log"
  : >"$STATE/kube-apiserver.log"
  printf '%s\n' "${flags[@]}" >"$STATE/kube-apiserver.flags"

  # --- etcd, as kubeadm's etcd static pod but on loopback ports of our choosing ---
  t0="$SECONDS"
  mkdir -p "$STATE/etcd"
  chmod 0700 "$STATE/etcd"
  nohup "$bin/etcd" \
    --name=e2e \
    --data-dir="$STATE/etcd" \
    --listen-client-urls="$ETCD_URL" \
    --advertise-client-urls="$ETCD_URL" \
    --listen-peer-urls="https://$LOOPBACK:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="https://$LOOPBACK:$ETCD_PEER_PORT" \
    --initial-cluster="e2e=https://$LOOPBACK:$ETCD_PEER_PORT" \
    --initial-cluster-state=new \
    --client-cert-auth=true \
    --trusted-ca-file="$PKI/etcd/ca.crt" \
    --cert-file="$PKI/etcd/server.crt" \
    --key-file="$PKI/etcd/server.key" \
    --peer-client-cert-auth=true \
    --peer-trusted-ca-file="$PKI/etcd/ca.crt" \
    --peer-cert-file="$PKI/etcd/peer.crt" \
    --peer-key-file="$PKI/etcd/peer.key" \
    --snapshot-count=10000 \
    </dev/null >"$STATE/etcd.log" 2>&1 &
  echo "$!" >"$STATE/etcd.pid"
  log "etcd: pid $(cat "$STATE/etcd.pid"), client $ETCD_URL, peer https://$LOOPBACK:$ETCD_PEER_PORT, log $STATE/etcd.log"
  if ! wait_https_200 "$ETCD_URL/health" "${ETCD_READY_TIMEOUT:-30}" \
      --cacert "$PKI/etcd/ca.crt" --cert "$PKI/apiserver-etcd-client.crt" --key "$PKI/apiserver-etcd-client.key"; then
    show_logs_and_die "$STATE" "etcd did not answer $ETCD_URL/health within ${ETCD_READY_TIMEOUT:-30}s"
  fi
  log "etcd: healthy after $(( SECONDS - t0 ))s"

  # --- kube-apiserver ---
  t0="$SECONDS"
  nohup "$bin/kube-apiserver" "${flags[@]}" </dev/null >"$STATE/kube-apiserver.log" 2>&1 &
  echo "$!" >"$STATE/kube-apiserver.pid"
  log "kube-apiserver: pid $(cat "$STATE/kube-apiserver.pid"), https://$LOOPBACK:$API_PORT, log $STATE/kube-apiserver.log"
  # /readyz with the cluster CA pinned, as an authenticated client (the apiserver's own kubelet
  # client certificate: system:public-info-viewer grants /readyz to every authenticated user, so
  # this also works where anonymous auth is off).
  local tls_name="${APISERVER_TLS_SERVER_NAME:-$LOOPBACK}"
  local tls_host="$tls_name"
  [[ "$tls_name" == *:* ]] && tls_host="[$tls_name]"   # an IPv6 literal in a URL
  local via=(--connect-to "$tls_host:$API_PORT:$LOOPBACK:$API_PORT")
  if ! wait_https_200 "https://$tls_host:$API_PORT/readyz" "${APISERVER_READY_TIMEOUT:-60}" "${via[@]}" \
      --cacert "$PKI/ca.crt" --cert "$PKI/apiserver-kubelet-client.crt" --key "$PKI/apiserver-kubelet-client.key"; then
    printf '[apiserver] last /readyz?verbose answer (certificate verified for %s):\n' "$tls_name" >&2
    curl -sS --max-time 5 "${via[@]}" --cacert "$PKI/ca.crt" --cert "$PKI/apiserver-kubelet-client.crt" \
      --key "$PKI/apiserver-kubelet-client.key" "https://$tls_host:$API_PORT/readyz?verbose" >&2 || true
    show_logs_and_die "$STATE" "kube-apiserver /readyz did not answer 200 within ${APISERVER_READY_TIMEOUT:-60}s"
  fi
  log "kube-apiserver: /readyz 200 after $(( SECONDS - t0 ))s"
  cat >"$STATE/endpoints.env" <<EOF
APISERVER_URL=https://$LOOPBACK:$API_PORT
APISERVER_TLS_SERVER_NAME=$tls_name
ETCD_CLIENT_URL=$ETCD_URL
ETCD_PEER_URL=https://$LOOPBACK:$ETCD_PEER_PORT
ETCD_PID=$(cat "$STATE/etcd.pid")
KUBE_APISERVER_PID=$(cat "$STATE/kube-apiserver.pid")
EOF
  log "endpoints written to $STATE/endpoints.env; stop with: $0 stop $STATE"
}

# ---------------------------------------------------------------------------------------------
# kube-controller-manager
# ---------------------------------------------------------------------------------------------
# Applies C1-C4 to the flags on stdin; prints the rewrites on stderr.
rewrite_controller_manager_flags() { # pki-dir kubeconfig port
  local pki="$1" kubeconfig="$2" port="$3" line name value new reason src_pki="" saw_bind=0 saw_port=0
  local flags=()
  mapfile -t flags
  for line in "${flags[@]}"; do
    [[ "$line" == --root-ca-file=* ]] && src_pki="$(dirname "${line#*=}")"
  done
  [[ -n "$src_pki" ]] || die "the kube-controller-manager command has no --root-ca-file; cannot tell its certificate dir"
  for line in "${flags[@]}"; do
    name="${line%%=*}"
    value="${line#*=}"
    new="$value"
    case "$name" in
      --kubeconfig | --authentication-kubeconfig | --authorization-kubeconfig)
        new="$kubeconfig"; reason="C2 the given kubeconfig" ;;
      --bind-address) new="$LOOPBACK"; reason="C3 listen on loopback only"; saw_bind=1 ;;
      --secure-port) new="$port"; reason="C4 CONTROLLER_MANAGER_PORT"; saw_port=1 ;;
      *)
        if [[ "$value" == "$src_pki"/* ]]; then
          new="$pki/${value#"$src_pki"/}"; reason="C1 certificate dir"
        fi ;;
    esac
    if [[ "$new" != "$value" ]]; then
      printf '[apiserver]   rewrite %s: %s -> %s (%s)\n' "$name" "$value" "$new" "$reason" >&2
    fi
    printf '%s=%s\n' "$name" "$new"
  done
  if [[ "$saw_bind" -eq 0 ]]; then
    printf '[apiserver]   add --bind-address=%s (C3 listen on loopback only)\n' "$LOOPBACK" >&2
    printf -- '--bind-address=%s\n' "$LOOPBACK"
  fi
  if [[ "$saw_port" -eq 0 ]]; then
    printf '[apiserver]   add --secure-port=%s (C4 CONTROLLER_MANAGER_PORT)\n' "$port" >&2
    printf -- '--secure-port=%s\n' "$port"
  fi
}

cmd_start_controller_manager() { # pki-dir state-dir kubeconfig manifest
  local pki state kubeconfig manifest port bin t0 raw pid_file flags=()
  pki="$(cd "$1" && pwd)" || die "pki dir $1 does not exist"
  state="$(cd "$2" && pwd)" || die "state dir $2 does not exist (start the API server first)"
  [[ -f "$3" ]] || die "kubeconfig $3 does not exist"
  kubeconfig="$(cd "$(dirname "$3")" && pwd)/$(basename "$3")"
  [[ -f "$4" ]] || die "manifest $4 does not exist"
  manifest="$(cd "$(dirname "$4")" && pwd)/$(basename "$4")"
  pid_file="$state/kube-controller-manager.pid"
  if [[ -f "$pid_file" ]] && pid_is "$(cat "$pid_file")" kube-controller-manager; then
    die "kube-controller-manager already runs from $state (pid $(cat "$pid_file")); stop it first: $0 stop $state"
  fi
  if ! { [[ -f "$state/kube-apiserver.pid" ]] && pid_is "$(cat "$state/kube-apiserver.pid")" kube-apiserver; }; then
    die "no kube-apiserver runs from $state; run: $0 start <pki-dir> $state first"
  fi
  port="${CONTROLLER_MANAGER_PORT:-$(free_port)}"
  port_in_use "$port" && die "port $LOOPBACK:$port is already in use"
  bin="$(bin_dir)"
  [[ -x "$bin/kube-controller-manager" ]] || die "no kube-controller-manager in $bin"
  raw="$(manifest_flags "$manifest" kube-controller-manager)" || exit 1
  log "kube-controller-manager flags: from $manifest, with these rewrites:"
  mapfile -t flags < <(printf '%s\n' "$raw" | rewrite_controller_manager_flags "$pki" "$kubeconfig" "$port")
  [[ "${#flags[@]}" -gt 0 ]] || die "no kube-controller-manager flags"
  printf '%s\n' "${flags[@]}" >"$state/kube-controller-manager.flags"

  t0="$SECONDS"
  nohup "$bin/kube-controller-manager" "${flags[@]}" </dev/null >"$state/kube-controller-manager.log" 2>&1 &
  echo "$!" >"$pid_file"
  log "kube-controller-manager: pid $(cat "$pid_file"), https://$LOOPBACK:$port, log $state/kube-controller-manager.log"
  # /healthz is always allowed (--authorization-always-allow-paths); the serving certificate is a
  # self-signed one made in memory, so it is not verified here.
  if ! wait_https_200 "https://$LOOPBACK:$port/healthz" "${CONTROLLER_MANAGER_READY_TIMEOUT:-60}" --insecure; then
    printf '[apiserver] ----- last 40 lines of %s -----\n' "$state/kube-controller-manager.log" >&2
    tail -n 40 "$state/kube-controller-manager.log" >&2
    stop_one "$state" kube-controller-manager || true
    die "kube-controller-manager /healthz did not answer 200 within ${CONTROLLER_MANAGER_READY_TIMEOUT:-60}s"
  fi
  log "kube-controller-manager: /healthz 200 after $(( SECONDS - t0 ))s"
  cat >>"$state/endpoints.env" <<EOF
CONTROLLER_MANAGER_URL=https://$LOOPBACK:$port
KUBE_CONTROLLER_MANAGER_PID=$(cat "$pid_file")
EOF
}

case "${1:-}" in
  start-controller-manager) [[ $# -eq 5 ]] || usage; shift; cmd_start_controller_manager "$@" ;;
  start) [[ $# -eq 3 || $# -eq 4 ]] || usage; shift; cmd_start "$@" ;;
  flags) [[ $# -eq 2 || $# -eq 3 ]] || usage; shift; cmd_flags "$@" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  *) usage ;;
esac
