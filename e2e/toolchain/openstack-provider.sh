#!/usr/bin/env bash
# Ensures pulumi-resource-openstack, bridged from terraform-provider-openstack by the Go module in
# openstack-provider/, is built and cached by its three versions:
#   pulumi-resource-openstack-<sdk>-tf<tf>-bridge<bridge>/
#     bin/pulumi-resource-openstack   the plugin (schema embedded, reports version <sdk>)
#     schema.json                     the generated schema (version set to <sdk>)
#     coverage.txt                    SDK tokens served (see openstack-provider/check-schema-tokens.mjs)
#     source.sha256                   hash of the module source it was built from
# An entry built from other module source is rebuilt. A pulumi-resource-openstack reporting version
# <sdk> on PATH (an official plugin) is used instead. Registers nothing (engine.sh does).
#
# stdout: one result line (see lib.sh); logs on stderr. E2E_TOOLCHAIN_IGNORE_PATH=1: never use PATH.
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_versions
SDK_VERSION="$TOOLCHAIN_PULUMI_OPENSTACK_SDK"
TF_VERSION="$TOOLCHAIN_TERRAFORM_PROVIDER_OPENSTACK"
BRIDGE_VERSION="$TOOLCHAIN_PULUMI_TERRAFORM_BRIDGE"
ENTRY="pulumi-resource-openstack-$SDK_VERSION-tf$TF_VERSION-bridge$BRIDGE_VERSION"
MODULE_DIR="$E2E_TOOLCHAIN_DIR/openstack-provider"
SDK_DIR="$E2E_REPO_ROOT/node_modules/@pulumi/openstack"
TF_MODULE="github.com/terraform-provider-openstack/terraform-provider-openstack/v3"
BRIDGE_MODULE="github.com/pulumi/pulumi-terraform-bridge/v3"
VERSION_VAR="e2e.local/openstack-provider/version.Version"
LOG_DIR="$E2E_TOOLCHAIN_CACHE/logs"
mkdir -p "$LOG_DIR"

# Hash of the module's source (what the binary is built from), generated files excluded.
source_hash() {
  (
    cd "$MODULE_DIR"
    find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.txt' -o -name '*.mjs' \) \
      ! -path './cmd/pulumi-resource-openstack/schema.json' -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
    printf '%s %s %s\n' "$SDK_VERSION" "$TF_VERSION" "$BRIDGE_VERSION"
  ) | sha256sum | cut -d' ' -f1
}

# Directory of a pulumi-resource-openstack on PATH that reports the SDK version, if any.
official_plugin_dir() {
  [[ "${E2E_TOOLCHAIN_IGNORE_PATH:-0}" == "1" ]] && return 0
  local found dir cache_real
  found="$(command -v pulumi-resource-openstack 2>/dev/null)" || return 0
  dir="$(cd "$(dirname "$found")" && pwd -P)"
  cache_real="$(cd "$E2E_TOOLCHAIN_CACHE" && pwd -P)"
  case "$dir/" in "$cache_real"/*) return 0 ;; esac
  local reported
  reported="$(timeout 20 "$found" -version 2>/dev/null | head -n1)" || return 0
  if [[ "${reported#v}" == "$SDK_VERSION" ]]; then
    printf '%s\n' "$dir"
  fi
}

# The committed SDK token list must be the installed SDK's (the SDK is the reference).
check_sdk_token_list() {
  local logfile="$1" installed
  [[ -f "$SDK_DIR/package.json" ]] || die "no @pulumi/openstack in $SDK_DIR (run npm ci in $E2E_REPO_ROOT)"
  installed="$(node -p "require('$SDK_DIR/package.json').version.replace(/^v/, '')")"
  [[ "$installed" == "$SDK_VERSION" ]] ||
    die "node_modules has @pulumi/openstack $installed but lib/versions.ts pins $SDK_VERSION"
  if ! diff <(bash "$MODULE_DIR/sdk-tokens.sh" "$SDK_DIR") "$MODULE_DIR/tokens/sdk-tokens.txt" >>"$logfile" 2>&1; then
    die_with_log "openstack-provider/tokens/sdk-tokens.txt is not the installed SDK's token list; regenerate it:
  bash e2e/toolchain/openstack-provider/sdk-tokens.sh > e2e/toolchain/openstack-provider/tokens/sdk-tokens.txt" "$logfile"
  fi
}

build() {
  local hash="$1" final staging logfile src upstream
  final="$(cache_entry "$ENTRY")"
  new_staging "$ENTRY"
  staging="$STAGING"
  logfile="$LOG_DIR/$ENTRY.log"
  : >"$logfile"
  log "building pulumi-resource-openstack $SDK_VERSION (terraform-provider-openstack $TF_VERSION, bridge $BRIDGE_VERSION; about 3.5 min cold; log: $logfile)"
  check_sdk_token_list "$logfile"
  upstream="$(module_dir "$TF_MODULE@v$TF_VERSION" "$logfile")"
  src="$staging/src"
  mkdir -p "$src"
  (cd "$MODULE_DIR" && tar --exclude=./cmd/pulumi-resource-openstack/schema.json -cf - .) | (cd "$src" && tar -xf -)
  chmod -R u+w "$src"
  local ldflags="-s -w -X $VERSION_VAR=$SDK_VERSION" pinned
  # lib/versions.ts is the single source of the versions; the build copy's go.mod follows it.
  pinned="$(cd "$src" && go list -m -f '{{.Path}}@{{.Version}}' "$TF_MODULE" "$BRIDGE_MODULE" 2>>"$logfile" | tr '\n' ' ')"
  if [[ "$pinned" != "$TF_MODULE@v$TF_VERSION $BRIDGE_MODULE@v$BRIDGE_VERSION " ]]; then
    log "note: openstack-provider/go.mod pins ${pinned}; building with the versions of lib/versions.ts (update go.mod and go.sum to match)"
  fi
  (
    cd "$src"
    go mod edit -require="$TF_MODULE@v$TF_VERSION" -require="$BRIDGE_MODULE@v$BRIDGE_VERSION"
    go test ./tokens/
    go build -trimpath -ldflags "$ldflags" -o "$staging/tfgen/pulumi-tfgen-openstack" ./cmd/pulumi-tfgen-openstack
  ) >>"$logfile" 2>&1 || die_with_log "building pulumi-tfgen-openstack failed" "$logfile"

  log "generating the schema (tfgen schema --skip-examples)"
  (
    cd "$staging/tfgen"
    TFGEN_UPSTREAM_REPO_PATH="$upstream" ./pulumi-tfgen-openstack schema --skip-examples --out "$staging/tfgen/out"
  ) >>"$logfile" 2>&1 || die_with_log "pulumi-tfgen-openstack schema failed" "$logfile"
  [[ -s "$staging/tfgen/out/schema.json" ]] || die_with_log "tfgen wrote no schema.json" "$logfile"
  node -e '
    const fs = require("fs");
    const [file, out, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(file, "utf8"));
    schema.version = version;
    fs.writeFileSync(out, JSON.stringify(schema, null, 2) + "\n");
  ' "$staging/tfgen/out/schema.json" "$staging/schema.json" "$SDK_VERSION" >>"$logfile" 2>&1 ||
    die_with_log "could not set the schema version" "$logfile"

  log "checking the served tokens against @pulumi/openstack $SDK_VERSION"
  if ! node "$MODULE_DIR/check-schema-tokens.mjs" "$staging/schema.json" "$SDK_DIR" >"$staging/coverage.txt" 2>>"$logfile"; then
    cat "$staging/coverage.txt" >>"$logfile"
    die_with_log "the generated schema does not serve the tokens this project uses" "$logfile"
  fi
  cat "$staging/coverage.txt" >>"$logfile"

  cp "$staging/schema.json" "$src/cmd/pulumi-resource-openstack/schema.json"
  (
    cd "$src"
    go build -trimpath -ldflags "$ldflags" -o "$staging/bin/pulumi-resource-openstack" ./cmd/pulumi-resource-openstack
  ) >>"$logfile" 2>&1 || die_with_log "building pulumi-resource-openstack failed" "$logfile"
  local reported
  reported="$(timeout 20 "$staging/bin/pulumi-resource-openstack" -version 2>>"$logfile" | head -n1)" ||
    die_with_log "the freshly built pulumi-resource-openstack does not run" "$logfile"
  [[ "${reported#v}" == "$SDK_VERSION" ]] ||
    die_with_log "pulumi-resource-openstack reports version '$reported', expected $SDK_VERSION" "$logfile"

  rm -rf "$src" "$staging/tfgen"
  printf '%s\n' "$hash" >"$staging/source.sha256"
  # A stale entry (built from other source) is swapped out.
  replace_entry "$staging" "$final" "$ENTRY"
}

main() {
  local start official final hash status
  start="$(now_seconds)"
  official="$(official_plugin_dir)"
  if [[ -n "$official" ]]; then
    log "pulumi-resource-openstack $SDK_VERSION found on PATH at $official; using it"
    result pulumi-resource-openstack "$SDK_VERSION" path 0 "$official"
    return 0
  fi
  final="$(cache_entry "$ENTRY")"
  hash="$(source_hash)"
  up_to_date() { [[ -x "$final/bin/pulumi-resource-openstack" && "$(cat "$final/source.sha256" 2>/dev/null)" == "$hash" ]]; }
  up_to_date || lock_entry "$ENTRY"
  if up_to_date; then
    status=cached
  else
    if [[ -d "$final" ]]; then
      log "cache entry $final was built from other source of openstack-provider/; rebuilding"
    fi
    setup_go
    build "$hash"
    status=built
  fi
  log "pulumi-resource-openstack $SDK_VERSION: $status ($final/bin) in $(($(now_seconds) - start)) s; $(tail -n1 "$final/coverage.txt")"
  result pulumi-resource-openstack "$SDK_VERSION" "$status" "$(($(now_seconds) - start))" "$final/bin"
}

main "$@"
