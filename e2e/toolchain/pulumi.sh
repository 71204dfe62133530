#!/usr/bin/env bash
# Ensures the Pulumi engine pieces are built from the Go module proxy and cached by version:
#   pulumi-cli-<cli>/bin/pulumi                                   (github.com/pulumi/pulumi/pkg/v3, ./cmd/pulumi)
#   pulumi-language-nodejs-<host>/bin/pulumi-language-nodejs      (github.com/pulumi/pulumi/sdk/v3, ./nodejs/cmd/pulumi-language-nodejs)
#   pulumi-resource-pulumi-nodejs-<cli>/bin/pulumi-resource-pulumi-nodejs (nodejs/dist of sdk/v3 at the CLI version)
# A pulumi CLI of the pinned version already on PATH (an official install) is used as is, together
# with the language host and dynamic-provider script installed next to it.
#
# stdout: one result line per tool (see lib.sh); logs on stderr. Set E2E_TOOLCHAIN_IGNORE_PATH=1 to
# never use binaries found on PATH.
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_versions
CLI_VERSION="$TOOLCHAIN_PULUMI_CLI"
HOST_VERSION="$TOOLCHAIN_PULUMI_LANGUAGE_NODEJS"
VERSION_VAR="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
LOG_DIR="$E2E_TOOLCHAIN_CACHE/logs"
mkdir -p "$LOG_DIR"

# Prints the directory of a pulumi CLI of the pinned version found on PATH (outside our cache), if any.
official_cli_dir() {
  [[ "${E2E_TOOLCHAIN_IGNORE_PATH:-0}" == "1" ]] && return 0
  local found dir
  found="$(command -v pulumi 2>/dev/null)" || return 0
  dir="$(cd "$(dirname "$found")" && pwd -P)"
  local cache_real
  cache_real="$(cd "$E2E_TOOLCHAIN_CACHE" && pwd -P)"
  case "$dir/" in "$cache_real"/*) return 0 ;; esac
  if [[ "$(PULUMI_SKIP_UPDATE_CHECK=true "$found" version 2>/dev/null)" == "v$CLI_VERSION" ]]; then
    printf '%s\n' "$dir"
  fi
}

build_cli() {
  local entry="pulumi-cli-$CLI_VERSION" final staging logfile src
  final="$(cache_entry "$entry")"
  new_staging "$entry"
  staging="$STAGING"
  logfile="$LOG_DIR/$entry.log"
  : >"$logfile"
  log "building pulumi CLI $CLI_VERSION from github.com/pulumi/pulumi/pkg/v3 (about 11 min cold; log: $logfile)"
  src="$(module_dir "github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION" "$logfile")"
  copy_module "$src" "$staging/src"
  (
    cd "$staging/src"
    # pkg/v3's go.mod points sdk/v3 at ../sdk (the monorepo); use the published sdk of the same version.
    go mod edit -dropreplace=github.com/pulumi/pulumi/sdk/v3 -require="github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION"
    go build -trimpath -ldflags "-s -w -X $VERSION_VAR=v$CLI_VERSION" -o "$staging/bin/pulumi" ./cmd/pulumi
  ) >>"$logfile" 2>&1 || die_with_log "building the pulumi CLI $CLI_VERSION failed" "$logfile"
  local reported
  reported="$(PULUMI_SKIP_UPDATE_CHECK=true "$staging/bin/pulumi" version 2>>"$logfile")" ||
    die_with_log "the freshly built pulumi CLI does not run" "$logfile"
  [[ "$reported" == "v$CLI_VERSION" ]] ||
    die_with_log "the freshly built pulumi CLI reports '$reported', expected v$CLI_VERSION" "$logfile"
  rm -rf "$staging/src"
  publish_staging "$staging" "$final"
}

build_language_host() {
  local entry="pulumi-language-nodejs-$HOST_VERSION" final staging logfile src
  final="$(cache_entry "$entry")"
  new_staging "$entry"
  staging="$STAGING"
  logfile="$LOG_DIR/$entry.log"
  : >"$logfile"
  log "building pulumi-language-nodejs $HOST_VERSION from github.com/pulumi/pulumi/sdk/v3 (about 2 min cold; log: $logfile)"
  src="$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$HOST_VERSION" "$logfile")"
  copy_module "$src" "$staging/src"
  (
    cd "$staging/src"
    go build -trimpath -ldflags "-s -w -X $VERSION_VAR=v$HOST_VERSION" \
      -o "$staging/bin/pulumi-language-nodejs" ./nodejs/cmd/pulumi-language-nodejs
  ) >>"$logfile" 2>&1 || die_with_log "building pulumi-language-nodejs $HOST_VERSION failed" "$logfile"
  [[ -x "$staging/bin/pulumi-language-nodejs" ]] ||
    die_with_log "go build produced no pulumi-language-nodejs binary" "$logfile"
  rm -rf "$staging/src"
  publish_staging "$staging" "$final"
}

fetch_dynamic_provider_script() {
  local entry="pulumi-resource-pulumi-nodejs-$CLI_VERSION" final staging logfile src script
  final="$(cache_entry "$entry")"
  new_staging "$entry"
  staging="$STAGING"
  logfile="$LOG_DIR/$entry.log"
  : >"$logfile"
  log "fetching pulumi-resource-pulumi-nodejs from nodejs/dist of github.com/pulumi/pulumi/sdk/v3 $CLI_VERSION"
  src="$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION" "$logfile")"
  script="$src/nodejs/dist/pulumi-resource-pulumi-nodejs"
  [[ -f "$script" ]] || die_with_log "sdk/v3 v$CLI_VERSION has no nodejs/dist/pulumi-resource-pulumi-nodejs" "$logfile"
  mkdir -p "$staging/bin"
  cp "$script" "$staging/bin/pulumi-resource-pulumi-nodejs"
  chmod 0755 "$staging/bin/pulumi-resource-pulumi-nodejs"
  publish_staging "$staging" "$final"
}

# ensure NAME VERSION ENTRY BINARY BUILD_FUNCTION: prints the result line of one cached tool.
ensure() {
  local name="$1" version="$2" entry="$3" binary="$4" build="$5" start status final
  start="$(now_seconds)"
  final="$(cache_entry "$entry")"
  if [[ ! -x "$final/bin/$binary" ]]; then
    lock_entry "$entry"
  fi
  if [[ -x "$final/bin/$binary" ]]; then
    status=cached
  else
    setup_go
    "$build"
    [[ -x "$final/bin/$binary" ]] || die "$name $version: no $final/bin/$binary after the build"
    status=built
  fi
  log "$name $version: $status ($final/bin) in $(($(now_seconds) - start)) s"
  result "$name" "$version" "$status" "$(($(now_seconds) - start))" "$final/bin"
}

main() {
  local official
  official="$(official_cli_dir)"
  if [[ -n "$official" ]]; then
    log "pulumi $CLI_VERSION found on PATH at $official; using it"
    result pulumi "$CLI_VERSION" path 0 "$official"
    if [[ -x "$official/pulumi-language-nodejs" && -x "$official/pulumi-resource-pulumi-nodejs" ]]; then
      log "pulumi-language-nodejs and pulumi-resource-pulumi-nodejs found next to it (bundled with CLI $CLI_VERSION)"
      result pulumi-language-nodejs "$CLI_VERSION" path 0 "$official"
      result pulumi-resource-pulumi-nodejs "$CLI_VERSION" path 0 "$official"
      return 0
    fi
    log "no bundled language host next to $official/pulumi; building it"
  else
    ensure pulumi "$CLI_VERSION" "pulumi-cli-$CLI_VERSION" pulumi build_cli
  fi
  ensure pulumi-language-nodejs "$HOST_VERSION" "pulumi-language-nodejs-$HOST_VERSION" \
    pulumi-language-nodejs build_language_host
  ensure pulumi-resource-pulumi-nodejs "$CLI_VERSION" "pulumi-resource-pulumi-nodejs-$CLI_VERSION" \
    pulumi-resource-pulumi-nodejs fetch_dynamic_provider_script
}

main "$@"
