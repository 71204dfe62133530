#!/usr/bin/env bash
# Smoke check of the real-engine toolchain: the built Pulumi CLI, the Node.js language host and
# the bridged OpenStack provider (registered as `openstack <sdk version>`) preview a tiny
# TypeScript program with one openstack.networking.Network, offline, on a local file backend.
# `pulumi preview` does not authenticate against OpenStack (the provider authenticates lazily), so
# no cloud is needed; the configured auth URL points at a closed loopback port on purpose.
#
#   bash e2e/toolchain/smoke-openstack.sh        (E2E_KEEP_TMP=1 keeps the temp dir)
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_versions
engine_output="$(bash "$E2E_TOOLCHAIN_DIR/engine.sh")" || die "engine.sh failed"
sed '$d' <<<"$engine_output" >&2
env_file="$(tail -n1 <<<"$engine_output")"
[[ -f "$env_file" ]] || die "engine.sh printed '$env_file', which is no file"
# shellcheck source=/dev/null
source "$env_file"

# The program runs on the project's Node.js (>= 22, which @pulumi/pulumi needs), first on PATH.
node_bin="$E2E_REPO_ROOT/node_modules/.bin/node"
[[ -x "$node_bin" ]] || die "no $node_bin (the project's devDependency node); run npm ci in $E2E_REPO_ROOT"
node_dir="$(dirname "$(readlink -f "$node_bin")")"
export PATH="$node_dir:$PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 22)) || die "node on PATH is $(node --version); @pulumi/pulumi needs >= 22"

work="$(mktemp -d "${TMPDIR:-/tmp}/smoke-openstack.XXXXXX")"
cleanup() {
  if [[ "${E2E_KEEP_TMP:-0}" == "1" ]]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

project="$work/project"
mkdir -p "$project" "$work/state"
ln -s "$E2E_REPO_ROOT/node_modules" "$project/node_modules"
cat >"$project/Pulumi.yaml" <<'YAML'
name: smoke-openstack
description: Smoke check of the e2e toolchain (one OpenStack network, preview only).
runtime:
  name: nodejs
  options:
    typescript: true
YAML
cat >"$project/package.json" <<'JSON'
{ "name": "smoke-openstack", "private": true, "main": "index.ts" }
JSON
cat >"$project/tsconfig.json" <<'JSON'
{
  "compilerOptions": { "strict": true, "target": "ES2020", "module": "commonjs", "moduleResolution": "node", "skipLibCheck": true },
  "files": ["index.ts"]
}
JSON
cat >"$project/index.ts" <<'TS'
import * as openstack from "@pulumi/openstack";

const network = new openstack.networking.Network("smoke-net", { adminStateUp: true, mtu: 1450 });
export const networkName = network.name;
TS

# A hermetic environment: a file backend, no OpenStack credentials from the caller's shell.
unset OS_CLOUD OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_TENANT_NAME OS_TOKEN \
  OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET OS_REGION_NAME
export PULUMI_BACKEND_URL="file://$work/state"
export PULUMI_CONFIG_PASSPHRASE="smoke-openstack"
cd "$project"

run() {
  local logfile="$1"
  shift
  "$@" >"$logfile" 2>&1 || die_with_log "'$*' failed" "$logfile"
}

start="$(now_seconds)"
log "pulumi $(pulumi version), node $(node --version), PULUMI_HOME=$PULUMI_HOME"
run "$work/stack-init.log" pulumi stack init smoke --non-interactive
run "$work/config.log" pulumi config set openstack:authUrl "http://127.0.0.1:9/v3"
run "$work/config.log" pulumi config set openstack:userName smoke
run "$work/config.log" pulumi config set openstack:tenantName smoke
run "$work/config.log" pulumi config set openstack:region RegionOne
run "$work/config.log" pulumi config set --secret openstack:password smoke

log "pulumi preview (no cloud: the provider does not authenticate for a preview)"
if ! pulumi preview --non-interactive --json >"$work/preview.json" 2>"$work/preview.err"; then
  cat "$work/preview.json" >>"$work/preview.err"
  die_with_log "pulumi preview failed" "$work/preview.err"
fi
# shellcheck disable=SC2016 # JavaScript, not shell
if ! node -e '
  const fs = require("fs");
  const preview = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const steps = preview.steps ?? [];
  const create = steps.find((s) => s.op === "create" && /::openstack:networking\/network:Network::smoke-net$/.test(s.urn));
  if (!create) {
    console.error("no create of openstack:networking/network:Network smoke-net in the preview; steps:");
    for (const s of steps) console.error(`  ${s.op} ${s.urn}`);
    process.exit(1);
  }
  const inputs = create.newState?.inputs ?? {};
  if (inputs.mtu !== 1450) {
    console.error(`the planned network has mtu ${JSON.stringify(inputs.mtu)}, expected 1450`);
    process.exit(1);
  }
  console.log(`preview: ${JSON.stringify(preview.changeSummary)}; ${create.op} ${create.urn}`);
' "$work/preview.json" >"$work/assert.log" 2>&1; then
  cat "$work/preview.json" >>"$work/assert.log"
  die_with_log "the preview does not plan the network" "$work/assert.log"
fi
log "$(cat "$work/assert.log")"
printf 'smoke-openstack: OK (pulumi preview planned the network create in %s s)\n' "$(($(now_seconds) - start))"
