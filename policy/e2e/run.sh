#!/usr/bin/env bash
# The policy pack under the real Pulumi engine: `pulumi preview` of a small OpenStack program
# (policy/e2e/program) on a local backend, offline, once with resources the pack must refuse and once
# with resources it must accept. Uses the e2e toolchain (e2e/toolchain/engine.sh: the CLI, the Node.js
# language host and the bridged OpenStack provider, built from the Go module proxy and cached).
#
# Usage: npm run e2e:policy        Exit 0 when both previews behave; prints what each reported.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
started=$(date +%s)

engine_env="$(bash "$root/e2e/toolchain/engine.sh" | tail -n1)"
# shellcheck source=/dev/null
source "$engine_env"
export PULUMI_CONFIG_PASSPHRASE=policy-e2e

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state"
cp -r "$here/program" "$work/program"
ln -s "$root/node_modules" "$work/program/node_modules"
cd "$work/program"
export PULUMI_BACKEND_URL="file://$work/state"
pulumi stack init prod --non-interactive >/dev/null
pulumi config set openstack:authUrl https://keystone.example.com:5000/v3 >/dev/null

failures=0
passed=0
expect() { # expect DESCRIPTION COMMAND...: counts a check
  local description="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$description"
  else
    failures=$((failures + 1))
    printf '  FAIL  %s\n' "$description"
  fi
}
contains() { grep -qE -- "$2" <<<"$1"; }
lacks() { ! grep -qE -- "$2" <<<"$1"; }

preview() { # preview BAD: prints the preview's output; its exit code is in $status
  pulumi config set policy-e2e:bad "$1" >/dev/null
  status=0
  output="$(pulumi preview --non-interactive --color never --policy-pack "$here/analyzer" 2>&1)" || status=$?
}

echo "policy e2e: refused resources (bad=true)"
preview true
expect "the preview fails" test "$status" -ne 0
expect "SSH open to the world is refused" contains "$output" 'no-world-open-admin-ports +\(openstack:networking:SecGroupRule: ssh\)'
expect "the API open to the world is refused" contains "$output" 'no-world-open-admin-ports +\(openstack:networking:SecGroupRule: kubernetes-api\)'
expect "HTTPS open to the world is not" lacks "$output" 'SecGroupRule: https\)'
expect "control-plane nodes in an affinity group are refused (joined during preview)" \
  contains "$output" 'control-plane node control-plane-2 is in a server group with policies \[affinity\]'
expect "nodes booting without a config drive are refused" \
  contains "$output" 'nodes-config-drive +\(openstack:compute:Instance: control-plane-0\)'
expect "an unrestricted application credential is advised against" \
  contains "$output" '\[advisory\].*application-credential-restricted'
[[ $failures -eq 0 ]] || printf '%s\n' "$output"

echo "policy e2e: accepted resources (bad=false)"
preview false
expect "the preview passes" test "$status" -eq 0
expect "no mandatory violation" lacks "$output" '\[mandatory\]'
expect "the advisory prod-boot-from-volume still shows" contains "$output" '\[advisory\].*prod-boot-from-volume'
[[ $failures -eq 0 ]] || printf '%s\n' "$output"

echo "policy e2e: $passed passed, $failures failed ($(($(date +%s) - started)) s)"
[[ $failures -eq 0 ]]
