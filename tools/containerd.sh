#!/usr/bin/env bash
# The containerd release the nodes install (lib/versions.ts nodePackages.containerd), built from the Go
# module proxy and cached by version, so the tests can ask the real containerd how it merges the
# configuration the program writes (`containerd config dump`). Only the daemon binary is built, without
# cgo (no btrfs/zfs/devmapper snapshotters: configuration parsing does not need them). The first run
# builds (about 4 minutes on 2 cores); later runs only print the path:
#   ${E2E_CACHE_DIR:-$HOME/.cache/istio-openstack-e2e}/containerd-<version>/bin/containerd
#
# Usage: tools/containerd.sh   (ensure the binary, print its path)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR/.. source=e2e/toolchain/lib.sh
source "$ROOT/e2e/toolchain/lib.sh"
load_versions
[[ -n "${CONTAINERD_VERSION:-}" ]] || die "lib/versions.ts printed no CONTAINERD_VERSION (e2e/lib/print-versions.ts)"
CACHE="$E2E_TOOLCHAIN_CACHE"
ENTRY="$CACHE/containerd-$CONTAINERD_VERSION"
BIN="$ENTRY/bin/containerd"

build() {
  setup_go
  mkdir -p "$CACHE"
  local staging
  staging="$(mktemp -d "$CACHE/.containerd-$CONTAINERD_VERSION.XXXXXX")"
  log "building containerd $CONTAINERD_VERSION from $GOPROXY into $ENTRY"
  if ! GOBIN="$staging/bin" go install -trimpath -ldflags "-s -w" -tags "no_btrfs no_zfs no_devmapper" \
    "github.com/containerd/containerd/v2/cmd/containerd@v$CONTAINERD_VERSION" >"$staging/build.log" 2>&1; then
    local failed="$CACHE/containerd-$CONTAINERD_VERSION.failed.log"
    mv -f "$staging/build.log" "$failed"
    rm -rf "$staging"
    die_with_log "go install of containerd v$CONTAINERD_VERSION failed" "$failed"
  fi
  # Rename into place: an interrupted build never leaves a half entry behind.
  if ! mv -T "$staging" "$ENTRY" 2>/dev/null; then
    rm -rf "$staging" # another run won the race; its entry is complete
  fi
}

[[ -x "$BIN" ]] || build
[[ -x "$BIN" ]] || die "no containerd binary at $BIN after building"
printf '%s\n' "$BIN"
