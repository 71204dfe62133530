#!/usr/bin/env bash
# Entry point of the real-engine toolchain: ensures the Pulumi CLI, the Node.js language host, the
# dynamic-provider script and the bridged OpenStack provider are built (cached by version), prepares
# an offline Pulumi home with the provider registered as `openstack <sdk version>`, and writes
# <cache>/engine.env (export lines to `source`).
#
#   source "$(bash e2e/toolchain/engine.sh | tail -n1)"
#
# stdout: one line per step (tool, version, built|cached|path, seconds), then the path of
# engine.env as the last line. Logs go to stderr. Cache: ${E2E_CACHE_DIR:-~/.cache/istio-openstack-e2e}.
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_versions
CLI_VERSION="$TOOLCHAIN_PULUMI_CLI"
SDK_VERSION="$TOOLCHAIN_PULUMI_OPENSTACK_SDK"
mkdir -p "$E2E_TOOLCHAIN_CACHE"
SUMMARY=()
declare -A BIN_DIR=()

# run_step SCRIPT: runs a toolchain script and records its result lines.
run_step() {
  local script="$1" output line name version status seconds dir
  output="$(bash "$E2E_TOOLCHAIN_DIR/$script")" || die "$script failed (see the messages above)"
  while IFS=$'\t' read -r line name version status seconds dir; do
    [[ "$line" == TOOL ]] || continue
    BIN_DIR[$name]="$dir"
    SUMMARY+=("$(printf '%-32s %-8s %-9s %4ss  %s' "$name" "$version" "$status" "$seconds" "$dir")")
  done <<<"$output"
}

run_step pulumi.sh
run_step openstack-provider.sh
for tool in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-resource-openstack; do
  [[ -n "${BIN_DIR[$tool]:-}" && -x "${BIN_DIR[$tool]}/$tool" ]] || die "no $tool after the build steps"
done

# Node.js for the language host: @pulumi/pulumi 3.270.0 needs Node >= 22; the project pins it as
# the devDependency `node` (node_modules/node/bin holds only the node binary).
NODE_DIR=""
if [[ -x "$E2E_REPO_ROOT/node_modules/node/bin/node" ]]; then
  NODE_DIR="$E2E_REPO_ROOT/node_modules/node/bin"
fi

# The CLI looks for its bundled plugins (language host nodejs, resource pulumi-nodejs) next to its
# own executable (symlinks resolved); with PULUMI_IGNORE_AMBIENT_PLUGINS=true it does not search
# PATH for them. So the three live in one directory: hard links (or copies) of the cached files.
engine_bin_dir() {
  local tool
  if [[ "${BIN_DIR[pulumi]}" == "${BIN_DIR[pulumi-language-nodejs]}" &&
    "${BIN_DIR[pulumi]}" == "${BIN_DIR[pulumi-resource-pulumi-nodejs]}" ]]; then
    ENGINE_BIN="${BIN_DIR[pulumi]}" # an official install found on PATH: already together
    ENGINE_BIN_STATUS=path
    return 0
  fi
  local entry="pulumi-engine-$CLI_VERSION-nodejs$TOOLCHAIN_PULUMI_LANGUAGE_NODEJS"
  ENGINE_BIN="$(cache_entry "$entry")/bin"
  ENGINE_BIN_STATUS=cached
  for tool in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
    if ! [[ "$ENGINE_BIN/$tool" -ef "${BIN_DIR[$tool]}/$tool" ]] && ! cmp -s "$ENGINE_BIN/$tool" "${BIN_DIR[$tool]}/$tool"; then
      ENGINE_BIN_STATUS=built
    fi
  done
  [[ "$ENGINE_BIN_STATUS" == cached ]] && return 0
  local staging final
  final="$(cache_entry "$entry")"
  new_staging "$entry"
  staging="$STAGING"
  mkdir -p "$staging/bin"
  for tool in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
    ln "${BIN_DIR[$tool]}/$tool" "$staging/bin/$tool" 2>/dev/null ||
      cp -p "${BIN_DIR[$tool]}/$tool" "$staging/bin/$tool"
  done
  replace_entry "$staging" "$final" "$entry"
}
assemble_start="$(now_seconds)"
engine_bin_dir
SUMMARY+=("$(printf '%-32s %-8s %-9s %4ss  %s' "engine bin dir (CLI + bundled)" "$CLI_VERSION" \
  "$ENGINE_BIN_STATUS" "$(($(now_seconds) - assemble_start))" "$ENGINE_BIN")")

PULUMI_HOME_DIR="$E2E_TOOLCHAIN_CACHE/pulumi-home-$CLI_VERSION"
mkdir -p "$PULUMI_HOME_DIR"
ENGINE_PATH="$ENGINE_BIN"
[[ -n "$NODE_DIR" ]] && ENGINE_PATH="$ENGINE_PATH:$NODE_DIR"

engine_env() {
  env PATH="$ENGINE_PATH:$PATH" PULUMI_HOME="$PULUMI_HOME_DIR" \
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_IGNORE_AMBIENT_PLUGINS=true \
    PULUMI_SKIP_UPDATE_CHECK=true PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true "$@"
}

# Register the OpenStack provider as `openstack <sdk version>` (idempotent: skipped when the
# registered binary is the cached one; replaced when it differs).
register_start="$(now_seconds)"
provider_binary="${BIN_DIR[pulumi-resource-openstack]}/pulumi-resource-openstack"
registered="$PULUMI_HOME_DIR/plugins/resource-openstack-v$SDK_VERSION/pulumi-resource-openstack"
register_log="$E2E_TOOLCHAIN_CACHE/logs/register-openstack-$SDK_VERSION.log"
if cmp -s "$provider_binary" "$registered"; then
  register_status=present
else
  reinstall=()
  [[ -e "$registered" ]] && reinstall=(--reinstall)
  log "registering $provider_binary as resource plugin openstack $SDK_VERSION in $PULUMI_HOME_DIR"
  engine_env pulumi plugin install resource openstack "$SDK_VERSION" --file "$provider_binary" "${reinstall[@]}" \
    >"$register_log" 2>&1 || die_with_log "pulumi plugin install resource openstack $SDK_VERSION failed" "$register_log"
  cmp -s "$provider_binary" "$registered" ||
    die_with_log "after pulumi plugin install, $registered is not the cached provider binary" "$register_log"
  register_status=installed
fi
engine_env pulumi plugin ls >"$register_log.ls" 2>&1 || die_with_log "pulumi plugin ls failed" "$register_log.ls"
grep -Eq "^openstack[[:space:]]+resource[[:space:]]+v?${SDK_VERSION}[[:space:]]" "$register_log.ls" ||
  die_with_log "pulumi plugin ls does not list resource openstack $SDK_VERSION" "$register_log.ls"
SUMMARY+=("$(printf '%-32s %-8s %-9s %4ss  %s' "plugin openstack (registered)" "$SDK_VERSION" \
  "$register_status" "$(($(now_seconds) - register_start))" "$PULUMI_HOME_DIR")")

# engine.env, written to a temporary file and renamed into place.
env_file="$E2E_TOOLCHAIN_CACHE/engine.env"
env_tmp="$(mktemp "$E2E_TOOLCHAIN_CACHE/.engine.env.XXXXXX")"
{
  printf '# Generated by e2e/toolchain/engine.sh: the Pulumi engine built from the Go module proxy, offline.\n'
  printf '# pulumi %s with pulumi-language-nodejs %s next to it; openstack provider %s registered in PULUMI_HOME.\n' \
    "$CLI_VERSION" "$TOOLCHAIN_PULUMI_LANGUAGE_NODEJS" "$SDK_VERSION"
  # shellcheck disable=SC2016 # ${PATH} is expanded when engine.env is sourced
  printf 'export PATH=%q:"${PATH}"\n' "$ENGINE_PATH"
  printf 'export PULUMI_HOME=%q\n' "$PULUMI_HOME_DIR"
  printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
  printf 'export PULUMI_IGNORE_AMBIENT_PLUGINS=true\n'
  printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
  printf 'export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true\n'
} >"$env_tmp"
mv -f "$env_tmp" "$env_file"

printf '%s\n' "${SUMMARY[@]}"
printf '%s\n' "$env_file"
