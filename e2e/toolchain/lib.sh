# shellcheck shell=bash
# Shared helpers for the e2e toolchain scripts (sourced, not run).
#
# Conventions:
# - logs go to stderr; a script's stdout carries only its results.
# - every built artifact lives under "$E2E_TOOLCHAIN_CACHE/<tool>-<version>/", created by building
#   into a temporary sibling directory and renaming it into place (atomic on one filesystem), so an
#   interrupted build never leaves a half entry behind.
# - result lines (stdout of pulumi.sh / openstack-provider.sh) are tab-separated:
#     TOOL <name> <version> <built|cached|path> <seconds> <bin dir>

E2E_TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_REPO_ROOT="$(cd "$E2E_TOOLCHAIN_DIR/../.." && pwd)"
E2E_TOOLCHAIN_CACHE="${E2E_CACHE_DIR:-$HOME/.cache/istio-openstack-e2e}"
export E2E_TOOLCHAIN_DIR E2E_REPO_ROOT E2E_TOOLCHAIN_CACHE

log() { printf '[toolchain %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

die() {
  printf '[toolchain] ERROR: %s\n' "$*" >&2
  exit 1
}

# die_with_log MESSAGE LOGFILE: fail loudly, showing the end of the log that explains why.
die_with_log() {
  local message="$1" logfile="$2"
  {
    printf '[toolchain] ERROR: %s\n' "$message"
    if [[ -f "$logfile" ]]; then
      printf '[toolchain] ---- last 40 lines of %s ----\n' "$logfile"
      tail -n 40 "$logfile"
      printf '[toolchain] ---- end of log ----\n'
    fi
  } >&2
  exit 1
}

# Reads the pinned versions (TOOLCHAIN_*) from the project's single versions module.
load_versions() {
  # Already read by a parent script (engine.sh runs the others): reuse, do not re-run npx.
  [[ "${E2E_TOOLCHAIN_VERSIONS_LOADED:-}" == "1" ]] && return 0
  local assignments errors
  errors="$(mktemp)"
  # npx's stderr (npm config warnings) is shown only when reading the versions fails.
  if ! assignments="$(cd "$E2E_REPO_ROOT" && npx --no-install tsx e2e/lib/print-versions.ts 2>"$errors")"; then
    cat "$errors" >&2
    rm -f "$errors"
    die "could not read versions with 'npx tsx e2e/lib/print-versions.ts' in $E2E_REPO_ROOT (is node_modules installed?)"
  fi
  rm -f "$errors"
  eval "$assignments"
  local name
  for name in TOOLCHAIN_PULUMI_CLI TOOLCHAIN_PULUMI_LANGUAGE_NODEJS TOOLCHAIN_TERRAFORM_PROVIDER_OPENSTACK \
    TOOLCHAIN_PULUMI_TERRAFORM_BRIDGE TOOLCHAIN_PULUMI_OPENSTACK_SDK TOOLCHAIN_ACTIONLINT; do
    [[ -n "${!name:-}" ]] || die "lib/versions.ts does not define ${name} (print-versions.ts printed no such line)"
    export "${name?}"
  done
  export E2E_TOOLCHAIN_VERSIONS_LOADED=1
}

# Go settings for reproducible, offline-friendly builds from the module proxy.
setup_go() {
  command -v go >/dev/null || die "go is not installed (needed to build the toolchain from the Go module proxy)"
  local proxy
  proxy="$(go env GOPROXY)"
  proxy="${proxy%%,*}"
  proxy="${proxy%%|*}"
  [[ -n "$proxy" && "$proxy" != "direct" && "$proxy" != "off" ]] ||
    die "go env GOPROXY has no proxy as its first entry (got '$(go env GOPROXY)')"
  export GOPROXY="$proxy"
  export GOFLAGS="-mod=mod -buildvcs=false"
  export CGO_ENABLED=0
}

# now_seconds: wall clock in seconds (integer).
now_seconds() { date +%s; }

# cache_entry TOOL-VERSION: prints the final directory of a cache entry.
cache_entry() { printf '%s/%s\n' "$E2E_TOOLCHAIN_CACHE" "$1"; }

# new_staging TOOL-VERSION: creates a fresh temporary directory next to the final entries and sets
# STAGING to it. Staging directories not published when the script exits (failure, Ctrl-C) are removed.
_STAGING_DIRS=()
new_staging() {
  mkdir -p "$E2E_TOOLCHAIN_CACHE/.staging"
  STAGING="$(mktemp -d "$E2E_TOOLCHAIN_CACHE/.staging/$1.XXXXXX")"
  chmod 0755 "$STAGING"
  _STAGING_DIRS+=("$STAGING")
  if ((${#_STAGING_DIRS[@]} == 1)); then
    trap _remove_staging EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
  fi
}
_remove_staging() {
  local dir
  for dir in "${_STAGING_DIRS[@]}"; do
    [[ -e "$dir" ]] && rm -rf "$dir"
  done
  return 0
}

# lock_entry TOOL-VERSION: serialises builds of one entry across concurrent runs (held until exit).
lock_entry() {
  command -v flock >/dev/null || return 0
  mkdir -p "$E2E_TOOLCHAIN_CACHE/.locks"
  local fd
  exec {fd}>"$E2E_TOOLCHAIN_CACHE/.locks/$1.lock"
  if ! flock -n "$fd"; then
    log "another run is building $1; waiting for it"
    flock "$fd"
  fi
}

# publish_staging STAGING FINAL: moves a completed staging directory into place atomically.
# If another run published the same entry meanwhile, keeps that one and drops ours.
publish_staging() {
  local staging="$1" final="$2"
  if mv -T "$staging" "$final" 2>/dev/null; then
    return 0
  fi
  if [[ -d "$final" ]]; then
    log "cache entry $final appeared meanwhile; keeping it"
    rm -rf "$staging"
    return 0
  fi
  die "could not move $staging to $final"
}

# replace_entry STAGING FINAL NAME: publishes STAGING as FINAL; a stale FINAL (other source or
# binaries) is swapped out first and removed afterwards, so FINAL is never half written.
replace_entry() {
  local staging="$1" final="$2" name="$3" old
  if [[ -d "$final" ]]; then
    new_staging "$name.old"
    old="$STAGING"
    mv -T "$final" "$old/entry"
    publish_staging "$staging" "$final"
    rm -rf "$old"
  else
    publish_staging "$staging" "$final"
  fi
}

# module_dir MODULE@VERSION LOGFILE: downloads a module through the proxy and prints its Dir.
module_dir() {
  local spec="$1" logfile="$2" json dir
  if ! json="$(go mod download -json "$spec" 2>>"$logfile")"; then
    printf '%s\n' "$json" >>"$logfile"
    die_with_log "go mod download $spec failed (GOPROXY=$GOPROXY)" "$logfile"
  fi
  printf '%s\n' "$json" >>"$logfile"
  dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    die_with_log "go mod download $spec returned no module directory" "$logfile"
  fi
  printf '%s\n' "$dir"
}

# copy_module SRC DEST: a writable copy of a (read-only) module cache directory.
copy_module() {
  mkdir -p "$2"
  cp -R "$1/." "$2/"
  chmod -R u+w "$2"
}

# result NAME VERSION STATUS SECONDS BINDIR: the one machine-readable line a step prints.
result() {
  printf 'TOOL\t%s\t%s\t%s\t%s\t%s\n' "$@"
}
