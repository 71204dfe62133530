#!/usr/bin/env bash
# Entry point of the real-engine toolchain: ensures the Pulumi CLI, the Node.js language host, the
# dynamic-provider script and the resource plugins asked for are built (cached by version), prepares
# an offline Pulumi home with those plugins registered, and writes <cache>/engine.env (export lines
# to `source`).
#
#   source "$(bash e2e/toolchain/engine.sh | tail -n1)"              # openstack (the default)
#   source "$(bash e2e/toolchain/engine.sh kubernetes | tail -n1)"   # kubernetes only
#
# Plugins (arguments; default openstack), each built by <name>-provider.sh:
#   openstack    the bridged OpenStack provider, registered as `openstack <@pulumi/openstack version>`
#   kubernetes   the official Kubernetes provider, registered as `kubernetes <@pulumi/kubernetes version>`
# Plugins registered by earlier runs stay registered (one PULUMI_HOME per CLI version).
#
# stdout: one line per step (tool, version, built|cached|path, seconds), then the path of
# engine.env as the last line. Logs go to stderr. Cache: ${E2E_CACHE_DIR:-~/.cache/istio-openstack-e2e}.
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_versions
CLI_VERSION="$TOOLCHAIN_PULUMI_CLI"
PLUGINS=("$@")
[[ "${#PLUGINS[@]}" -gt 0 ]] || PLUGINS=(openstack)
for plugin in "${PLUGINS[@]}"; do
  [[ "$plugin" =~ ^(openstack|kubernetes)$ ]] || die "unknown plugin '$plugin' (known: openstack, kubernetes)"
done
mkdir -p "$E2E_TOOLCHAIN_CACHE"
SUMMARY=()
declare -A BIN_DIR=()
declare -A VERSION=()

# run_step SCRIPT: runs a toolchain script and records its result lines.
run_step() {
  local script="$1" output line name version status seconds dir
  output="$(bash "$E2E_TOOLCHAIN_DIR/$script")" || die "$script failed (see the messages above)"
  while IFS=$'\t' read -r line name version status seconds dir; do
    [[ "$line" == TOOL ]] || continue
    BIN_DIR[$name]="$dir"
    VERSION[$name]="$version"
    SUMMARY+=("$(printf '%-32s %-8s %-9s %4ss  %s' "$name" "$version" "$status" "$seconds" "$dir")")
  done <<<"$output"
}

run_step pulumi.sh
for plugin in "${PLUGINS[@]}"; do run_step "$plugin-provider.sh"; done
for tool in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs "${PLUGINS[@]/#/pulumi-resource-}"; do
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

# Registers a resource plugin binary as `<name> <version>` (idempotent: skipped when the registered
# binary is the cached one; replaced when it differs).
register_plugin() { # name version binary
  local name="$1" version="$2" binary="$3" registered register_log register_status start reinstall=()
  start="$(now_seconds)"
  registered="$PULUMI_HOME_DIR/plugins/resource-$name-v$version/pulumi-resource-$name"
  register_log="$E2E_TOOLCHAIN_CACHE/logs/register-$name-$version.log"
  if cmp -s "$binary" "$registered"; then
    register_status=present
  else
    [[ -e "$registered" ]] && reinstall=(--reinstall)
    log "registering $binary as resource plugin $name $version in $PULUMI_HOME_DIR"
    engine_env pulumi plugin install resource "$name" "$version" --file "$binary" "${reinstall[@]}" \
      >"$register_log" 2>&1 || die_with_log "pulumi plugin install resource $name $version failed" "$register_log"
    cmp -s "$binary" "$registered" ||
      die_with_log "after pulumi plugin install, $registered is not the cached plugin binary" "$register_log"
    register_status=installed
  fi
  engine_env pulumi plugin ls >"$register_log.ls" 2>&1 || die_with_log "pulumi plugin ls failed" "$register_log.ls"
  grep -Eq "^${name}[[:space:]]+resource[[:space:]]+v?${version}[[:space:]]" "$register_log.ls" ||
    die_with_log "pulumi plugin ls does not list resource $name $version" "$register_log.ls"
  SUMMARY+=("$(printf '%-32s %-8s %-9s %4ss  %s' "plugin $name (registered)" "$version" \
    "$register_status" "$(($(now_seconds) - start))" "$PULUMI_HOME_DIR")")
}

REGISTERED=()
for plugin in "${PLUGINS[@]}"; do
  # The OpenStack plugin is registered as the SDK version it serves (its build reports that too).
  register_plugin "$plugin" "${VERSION[pulumi-resource-$plugin]}" \
    "${BIN_DIR[pulumi-resource-$plugin]}/pulumi-resource-$plugin"
  REGISTERED+=("$plugin ${VERSION[pulumi-resource-$plugin]}")
done

# engine.env, written to a temporary file and renamed into place.
env_file="$E2E_TOOLCHAIN_CACHE/engine.env"
env_tmp="$(mktemp "$E2E_TOOLCHAIN_CACHE/.engine.env.XXXXXX")"
{
  printf '# Generated by e2e/toolchain/engine.sh: the Pulumi engine built from the Go module proxy, offline.\n'
  printf '# pulumi %s with pulumi-language-nodejs %s next to it; registered in PULUMI_HOME by this run: %s.\n' \
    "$CLI_VERSION" "$TOOLCHAIN_PULUMI_LANGUAGE_NODEJS" "$(IFS=,; printf '%s' "${REGISTERED[*]}")"
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
