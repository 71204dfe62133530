#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint (and shellcheck on their run: blocks, when
# ShellCheck is on PATH). actionlint is built from the Go module proxy at a pinned version and cached
# by version, so only the first run builds (about a minute) and every later one takes well under a second:
#   ${E2E_CACHE_DIR:-$HOME/.cache/istio-openstack-e2e}/actionlint-<version>/bin/actionlint
#
# Usage: tools/actionlint.sh [actionlint args...]   (no args: every workflow in .github/workflows)
#        tools/actionlint.sh --print-path           (ensure the binary, print its path)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The toolchain's helpers: the pinned versions (lib/versions.ts) and the Go proxy settings.
# shellcheck source-path=SCRIPTDIR/.. source=e2e/toolchain/lib.sh
source "$ROOT/e2e/toolchain/lib.sh"
load_versions
ACTIONLINT_VERSION="$TOOLCHAIN_ACTIONLINT"
CACHE="$E2E_TOOLCHAIN_CACHE"
ENTRY="$CACHE/actionlint-$ACTIONLINT_VERSION"
BIN="$ENTRY/bin/actionlint"

die() {
  printf 'actionlint.sh: %s\n' "$*" >&2
  exit 2
}

build() {
  setup_go
  local proxy="$GOPROXY"
  mkdir -p "$CACHE"
  local staging
  staging="$(mktemp -d "$CACHE/.actionlint-$ACTIONLINT_VERSION.XXXXXX")"
  printf 'actionlint.sh: building actionlint %s from %s into %s\n' "$ACTIONLINT_VERSION" "$proxy" "$ENTRY" >&2
  if ! GOBIN="$staging/bin" \
    go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" >"$staging/build.log" 2>&1; then
    tail -n 40 "$staging/build.log" >&2
    rm -rf "$staging"
    die "go install github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION failed"
  fi
  # Rename into place: an interrupted build never leaves a half entry behind.
  if ! mv -T "$staging" "$ENTRY" 2>/dev/null; then
    rm -rf "$staging" # another run won the race; its entry is complete
  fi
}

[[ -x "$BIN" ]] || build
[[ -x "$BIN" ]] || die "no actionlint binary at $BIN after building"

if [[ "${1:-}" == "--print-path" ]]; then
  printf '%s\n' "$BIN"
  exit 0
fi

cd "$ROOT"
if [[ $# -eq 0 ]]; then
  command -v shellcheck >/dev/null ||
    printf 'actionlint.sh: shellcheck not on PATH, run: blocks are not checked (apt-get install -y shellcheck)\n' >&2
  exec "$BIN" -no-color
fi
exec "$BIN" -no-color "$@"
