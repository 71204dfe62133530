#!/usr/bin/env bash
# Ensures the real Kubernetes control-plane binaries of the pinned version are available:
#   etcd                     Debian's `etcd-server` package (installed with apt-get if missing)
#   kubeadm                  v$KUBERNETES_VERSION
#   kube-apiserver           v$KUBERNETES_VERSION
#   kube-controller-manager  v$KUBERNETES_VERSION (its garbage collector and namespace controller
#                            finish the foreground deletes of the Kubernetes provider)
#
# Lookup order for each of the Kubernetes binaries, each checked at the exact pinned version:
#   1. $KUBE_BIN_DIR/<name>   (e.g. official release binaries, where the internet is reachable)
#   2. <name> on PATH
#   3. the cache:  ${E2E_CACHE_DIR:-$HOME/.cache/istio-openstack-e2e}/kubernetes-<version>/bin/
#   4. otherwise built from the Go module proxy into a temp dir and moved into the cache:
#      a wrapper module requires k8s.io/kubernetes v<version> and replaces each of its
#      `./staging/src/k8s.io/X` entries with the published `k8s.io/X v0.<minor>.<patch>`.
#      Cold build about 8.5 min on 2 cores; a second run takes seconds. Only the missing names are
#      built: a cache entry made before a name joined KUBE_CMDS gets that binary added, the others
#      are reported `cached` and left untouched.
#
# The cache bin dir always ends up holding every name (binaries built here, symlinks to the ones
# found elsewhere), so callers can put that one directory first on PATH.
#
# Output: on stdout a report line per binary (name, version as the binary reports it,
# built now / cached / found / installed now, elapsed seconds, path); the LAST stdout line is the
# bin directory. Progress and errors go to stderr.
#   BIN_DIR="$(e2e/kubernetes/toolchain.sh | tail -n1)"
#
# Environment:
#   E2E_CACHE_DIR        cache root (default ~/.cache/istio-openstack-e2e)
#   KUBE_BIN_DIR         directory with prebuilt Kubernetes binaries (any of KUBE_CMDS) to prefer
#   KUBE_BUILD_TIMEOUT   seconds allowed for `go build` (default 3600)
#   KUBE_LOCK_TIMEOUT    seconds to wait for a concurrent run holding the cache lock (default 3600)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

# The single versions module provides KUBERNETES_VERSION.
versions="$(cd "$REPO_ROOT" && npx --no-install tsx e2e/lib/print-versions.ts 2>/dev/null)" \
  || die "could not read the pinned versions (npx tsx e2e/lib/print-versions.ts in $REPO_ROOT)"
eval "$versions"
: "${KUBERNETES_VERSION:?print-versions.ts did not provide KUBERNETES_VERSION}"
[[ "$KUBERNETES_VERSION" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] \
  || die "KUBERNETES_VERSION '$KUBERNETES_VERSION' is not MAJOR.MINOR.PATCH"
K8S_MAJOR="${BASH_REMATCH[1]}"
K8S_MINOR="${BASH_REMATCH[2]}"
K8S_PATCH="${BASH_REMATCH[3]}"
K8S_TAG="v${KUBERNETES_VERSION}"
# The Kubernetes commands this toolchain provides (all from k8s.io/kubernetes/cmd/<name>).
KUBE_CMDS=(kubeadm kube-apiserver kube-controller-manager)
STAGING_VERSION="v0.${K8S_MINOR}.${K8S_PATCH}"

CACHE_ROOT="${E2E_CACHE_DIR:-$HOME/.cache/istio-openstack-e2e}"
VERSION_DIR="$CACHE_ROOT/kubernetes-${KUBERNETES_VERSION}"
BIN_DIR="$VERSION_DIR/bin"
mkdir -p "$BIN_DIR"

# One run at a time per version: a second caller waits (bounded) and then finds the cache.
exec 9>"$VERSION_DIR/.lock"
if ! flock -n 9; then
  log "another toolchain run holds $VERSION_DIR/.lock; waiting up to ${KUBE_LOCK_TIMEOUT:-3600}s"
  flock -w "${KUBE_LOCK_TIMEOUT:-3600}" 9 || die "timed out waiting for $VERSION_DIR/.lock"
fi

now() { date +%s; }
# The report: one stdout line per binary (logs go to stderr; the bin dir is the last stdout line).
report() { # name path version how seconds
  printf '%-23s %-10s %-14s %5ss  %s\n' "$1" "$3" "$4" "$5" "$2"
}

# Version as the binary reports it ("" when it cannot run).
reported_version() { # name path
  case "$1" in
    kubeadm) "$2" version -o short 2>/dev/null || true ;;
    kube-apiserver | kube-controller-manager) "$2" --version 2>/dev/null | awk '{print $2}' || true ;;
    etcd) "$2" --version 2>/dev/null | awk '/^etcd Version:/ {print $3}' || true ;;
  esac
}

# Atomically point $BIN_DIR/<name> at an existing binary elsewhere.
link_into_cache() { # name target
  local tmp_link="$BIN_DIR/.$1.link.$$"
  ln -sfn "$2" "$tmp_link"
  mv -fT "$tmp_link" "$BIN_DIR/$1"
}

# ---------------------------------------------------------------------------------------------
# etcd from Debian's etcd-server package
# ---------------------------------------------------------------------------------------------
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else die "installing etcd-server needs root (or passwordless sudo): $*"; fi
}

# Exit 101 from /usr/sbin/policy-rc.d tells invoke-rc.d and deb-systemd-invoke not to start a
# service, so the package's postinst leaves no system etcd running. Other engineers install
# packages on this machine concurrently, so this never overwrites someone else's policy-rc.d:
#  - one that already answers 101 for etcd (Debian container images ship a blanket one) is used;
#  - if there is none, a selective one (101 for etcd only, 0 = allowed for every other service)
#    is created for the install and removed afterwards, if it is still ours;
#  - any other policy-rc.d is an error: we neither edit it nor risk starting a system etcd.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_MARK="# e2e/kubernetes/toolchain.sh: keep Debian's etcd-server postinst from starting etcd"

policy_denies_etcd() {
  [[ -x "$POLICY_RC" ]] || return 1
  local rc=0
  "$POLICY_RC" etcd.service start >/dev/null 2>&1 || rc=$?
  [[ "$rc" -eq 101 ]] || return 1
  rc=0
  "$POLICY_RC" etcd start >/dev/null 2>&1 || rc=$?
  [[ "$rc" -eq 101 ]]
}

install_etcd_server() {
  local ours="" apt_log rc=0
  local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=900)
  if policy_denies_etcd; then
    log "etcd: existing $POLICY_RC answers 101 for etcd; using it as is"
  elif [[ -e "$POLICY_RC" ]]; then
    die "$POLICY_RC exists and does not answer 101 for etcd; not editing someone else's policy (install etcd-server by hand without starting it, then rerun)"
  else
    ours="$(mktemp)"
    # shellcheck disable=SC2016 # $1 belongs to the generated sh script
    printf '#!/bin/sh\n%s\ncase "$1" in etcd|etcd.service) exit 101 ;; esac\nexit 0\n' "$POLICY_MARK" >"$ours"
    chmod 0755 "$ours"
    # mv -n: never replace a policy-rc.d that appeared meanwhile.
    as_root mv -n "$ours" "$POLICY_RC"
    if ! grep -qxF "$POLICY_MARK" "$POLICY_RC"; then
      rm -f "$ours"; ours=""
      policy_denies_etcd || die "a foreign $POLICY_RC appeared meanwhile and does not answer 101 for etcd"
    fi
  fi
  apt_log="$(mktemp -t etcd-apt.XXXXXX.log)"
  {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" etcd-server \
      || { as_root apt-get update -q -o DPkg::Lock::Timeout=900 && \
           as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" etcd-server; }
  } >"$apt_log" 2>&1 || rc=$?
  if [[ -n "$ours" ]] && grep -qxF "$POLICY_MARK" "$POLICY_RC" 2>/dev/null; then
    as_root rm -f "$POLICY_RC"
  fi
  if [[ "$rc" -ne 0 ]]; then
    tail -n 30 "$apt_log" >&2
    die "apt-get install etcd-server failed (exit $rc); full log: $apt_log"
  fi
  rm -f "$apt_log"
  # The package must not have left a system etcd running.
  if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
    die "a system etcd service is running after the install; stop it (systemctl stop etcd) and rerun"
  fi
  if command -v pgrep >/dev/null && pgrep -u etcd -x etcd >/dev/null 2>&1; then
    die "a system etcd process (user etcd) is running after the install; stop it and rerun"
  fi
}

ensure_etcd() {
  local t0 path how ver
  t0="$(now)"
  if [[ -x /usr/bin/etcd ]] && dpkg-query -W -f '${Status}' etcd-server 2>/dev/null | grep -q 'ok installed'; then
    how="found"
  else
    log "etcd: installing Debian package etcd-server (apt-get, no recommends, services not started)"
    install_etcd_server
    how="installed now"
  fi
  path="/usr/bin/etcd"
  ver="$(reported_version etcd "$path")"
  [[ -n "$ver" ]] || die "$path --version did not report a version"
  link_into_cache etcd "$path"
  report etcd "$path" "$ver" "$how" "$(( $(now) - t0 ))"
}

# ---------------------------------------------------------------------------------------------
# kubeadm / kube-apiserver / kube-controller-manager
# ---------------------------------------------------------------------------------------------
# Prints the path of a usable binary of the exact version, or nothing.
find_prebuilt() { # name
  local candidate
  for candidate in ${KUBE_BIN_DIR:+"$KUBE_BIN_DIR/$1"} "$(command -v "$1" 2>/dev/null || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    # The cache dir itself on PATH is not "found" (the cache check below covers it).
    [[ "$(cd "$(dirname "$candidate")" && pwd -P)" == "$(cd "$BIN_DIR" && pwd -P)" ]] && continue
    if [[ "$(reported_version "$1" "$candidate")" == "$K8S_TAG" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
    log "$1: ignoring $candidate (reports '$(reported_version "$1" "$candidate")', want $K8S_TAG)"
  done
}

go_proxy() {
  local first
  first="$(go env GOPROXY)"
  first="${first%%[,|]*}"
  case "$first" in
    "" | direct | off)
      die "the first GOPROXY entry is '$first'; a module proxy is required (set GOPROXY, or KUBE_BIN_DIR to prebuilt binaries)" ;;
  esac
  printf '%s\n' "$first"
}

# Builds the given cmds (names of KUBE_CMDS) and moves them into $BIN_DIR.
build_from_proxy() { # names...
  command -v go >/dev/null || die "go is not on PATH; cannot build $* (or set KUBE_BIN_DIR)"
  local proxy work log_file gomod_json gomod staging ldflags pkgs=() name rc=0
  proxy="$(go_proxy)"
  work="$(mktemp -d "$VERSION_DIR/.build.XXXXXX")"
  log_file="$VERSION_DIR/build.log"
  : >"$log_file"
  export GOPROXY="$proxy" GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
  log "building $* $K8S_TAG from $GOPROXY in $work (log: $log_file; cold about 8.5 min)"

  # The kubernetes go.mod names its staging modules; each becomes a replace to the published one.
  gomod_json="$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_TAG" 2>>"$log_file")" || {
    tail -n 30 "$log_file" >&2; die "go mod download k8s.io/kubernetes@$K8S_TAG failed"; }
  gomod="$(printf '%s\n' "$gomod_json" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$gomod" ]] || die "go mod download did not report the go.mod of k8s.io/kubernetes@$K8S_TAG"
  staging="$(awk '$2 == "=>" && $3 ~ /^\.\/staging\/src\// {print $1}' "$gomod")"
  [[ -n "$staging" ]] || die "no ./staging/src replaces found in $gomod"
  {
    printf 'module e2e.local/kubernetes-build\n\n'
    # Same go / godebug lines as kubernetes itself, so the build behaves like the release.
    awk '$1 == "go" || $1 == "godebug" {print}' "$gomod"
    printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_TAG"
    local module
    for module in $staging; do printf '\t%s => %s %s\n' "$module" "$module" "$STAGING_VERSION"; done
    printf ')\n'
  } >"$work/go.mod"

  # Same version variables as kubernetes' hack/lib/version.sh, so `kubeadm version` and the
  # server's /version report the real version instead of v0.0.0.
  ldflags="-s -w"
  local pkg_var
  for pkg_var in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg_var.gitVersion=$K8S_TAG -X $pkg_var.gitMajor=$K8S_MAJOR"
    ldflags+=" -X $pkg_var.gitMinor=$K8S_MINOR -X $pkg_var.gitTreeState=clean"
    ldflags+=" -X $pkg_var.buildDate=1970-01-01T00:00:00Z"
  done
  for name in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  mkdir -p "$work/out"
  ( cd "$work" && timeout "${KUBE_BUILD_TIMEOUT:-3600}" \
      go build -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}" ) >>"$log_file" 2>&1 || rc=$?
  if [[ "$rc" -ne 0 ]]; then
    tail -n 40 "$log_file" >&2
    [[ "$rc" -eq 124 ]] && die "go build timed out after ${KUBE_BUILD_TIMEOUT:-3600}s (work dir kept: $work)"
    die "go build of $* failed (exit $rc; work dir kept: $work)"
  fi
  for name in "$@"; do
    [[ "$(reported_version "$name" "$work/out/$name")" == "$K8S_TAG" ]] \
      || die "built $name reports '$(reported_version "$name" "$work/out/$name")', want $K8S_TAG"
    mv -f "$work/out/$name" "$BIN_DIR/$name"   # same filesystem: an atomic rename
  done
  rm -rf "$work"
}

ensure_kube_binaries() {
  local name found t0 to_build=() ver
  for name in "${KUBE_CMDS[@]}"; do
    t0="$(now)"
    found="$(find_prebuilt "$name")"
    if [[ -n "$found" ]]; then
      link_into_cache "$name" "$found"
      report "$name" "$found" "$K8S_TAG" found "$(( $(now) - t0 ))"
    elif [[ -x "$BIN_DIR/$name" && "$(reported_version "$name" "$BIN_DIR/$name")" == "$K8S_TAG" ]]; then
      report "$name" "$BIN_DIR/$name" "$K8S_TAG" cached "$(( $(now) - t0 ))"
    else
      to_build+=("$name")
    fi
  done
  if [[ "${#to_build[@]}" -gt 0 ]]; then
    t0="$(now)"
    # A stale entry (wrong version, dangling symlink) must not survive a failed build.
    for name in "${to_build[@]}"; do rm -f "$BIN_DIR/$name"; done
    build_from_proxy "${to_build[@]}"
    for name in "${to_build[@]}"; do
      ver="$(reported_version "$name" "$BIN_DIR/$name")"
      report "$name" "$BIN_DIR/$name" "$ver" "built now" "$(( $(now) - t0 ))"
    done
  fi
}

T_START="$(now)"
ensure_kube_binaries   # first: the build is the long part
ensure_etcd
log "all binaries ready in $(( $(now) - T_START ))s"
printf '%s\n' "$BIN_DIR"
