#!/usr/bin/env bash
# Ensures pulumi-resource-kubernetes, the official Kubernetes provider, is built from the Go module
# proxy and cached by version:
#   pulumi-resource-kubernetes-<version>/
#     bin/pulumi-resource-kubernetes   the plugin (schema embedded, reports <version> over gRPC)
#     source.txt                       the module and pseudo-version it was built from
# The version is the one package.json pins for @pulumi/kubernetes (the SDK and the plugin must
# match). A pulumi-resource-kubernetes on PATH is not used: it has no -version flag to check it by.
# Registers nothing (engine.sh does).
#
# How (shared/E2E-FACTS.md §1): the provider module has no semver tag of its own, and `go install`
# refuses it (its go.mod replaces sdk/v4 with ../sdk). So a wrapper module requires the provider at
# the pseudo-version of the release tag and replaces sdk/v4 with the published sdk of the same
# release; cmd/pulumi-resource-kubernetes's main.go, generate.go and the two JSON files come from
# the module cache, and `VERSION=<version> go run generate.go` writes the two embedded files the
# module zip lacks. Cold about 6 min on 2 cores (4.1 GB peak RSS), warm 8 s; 167 MB binary.
#
# stdout: one result line (see lib.sh); logs on stderr.
set -euo pipefail

# shellcheck source=e2e/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROVIDER_MODULE="github.com/pulumi/pulumi-kubernetes/provider/v4"
SDK_MODULE="github.com/pulumi/pulumi-kubernetes/sdk/v4"
VERSION_VAR="$PROVIDER_MODULE/pkg/version.Version"
LOG_DIR="$E2E_TOOLCHAIN_CACHE/logs"
mkdir -p "$LOG_DIR"

# The release tags the proxy serves the provider module for, as pseudo-versions (the module's own
# tags are v4.x.y of the repository root, not of provider/). Only 4.25.0 is known to build here.
declare -A PROVIDER_PSEUDO_VERSION=(
  [4.25.0]=v4.0.0-20260115033456-f47bc2d6f199
)

# The @pulumi/kubernetes version package.json pins; node_modules must hold the same.
pinned_sdk_version() {
  local pinned installed
  pinned="$(node -p "require('$E2E_REPO_ROOT/package.json').dependencies['@pulumi/kubernetes'] ?? ''")"
  [[ "$pinned" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "package.json must pin @pulumi/kubernetes to an exact version (found '$pinned')"
  installed="$(node -p "require('$E2E_REPO_ROOT/node_modules/@pulumi/kubernetes/package.json').version" 2>/dev/null)" ||
    die "no @pulumi/kubernetes in $E2E_REPO_ROOT/node_modules (run npm ci)"
  [[ "$installed" == "$pinned" ]] ||
    die "node_modules has @pulumi/kubernetes $installed but package.json pins $pinned (run npm ci)"
  printf '%s\n' "$pinned"
}

VERSION="$(pinned_sdk_version)"
PSEUDO="${PROVIDER_PSEUDO_VERSION[$VERSION]:-}"
[[ -n "$PSEUDO" ]] ||
  die "no pseudo-version of $PROVIDER_MODULE is known for @pulumi/kubernetes $VERSION (known: ${!PROVIDER_PSEUDO_VERSION[*]}); add it to PROVIDER_PSEUDO_VERSION in $0"
ENTRY="pulumi-resource-kubernetes-$VERSION"
BINARY=pulumi-resource-kubernetes

build() {
  local final staging logfile src cmd
  final="$(cache_entry "$ENTRY")"
  new_staging "$ENTRY"
  staging="$STAGING"
  logfile="$LOG_DIR/$ENTRY.log"
  : >"$logfile"
  log "building $BINARY $VERSION from $PROVIDER_MODULE@$PSEUDO (about 6 min cold, 4 GB of memory; log: $logfile)"
  src="$(module_dir "$PROVIDER_MODULE@$PSEUDO" "$logfile")"
  cmd="$src/cmd/pulumi-resource-kubernetes"
  local file
  for file in main.go generate.go schema.json terraform-mapping.json; do
    [[ -f "$cmd/$file" ]] || die_with_log "$PROVIDER_MODULE@$PSEUDO has no cmd/pulumi-resource-kubernetes/$file" "$logfile"
  done
  mkdir -p "$staging/src"
  cp "$cmd/main.go" "$cmd/generate.go" "$cmd/schema.json" "$cmd/terraform-mapping.json" "$staging/src/"
  chmod u+w "$staging/src/"*
  {
    printf 'module e2e.local/pulumi-resource-kubernetes\n\n'
    # The provider's own go directive, so the build behaves like its release.
    awk '$1 == "go" {print; exit}' "$src/go.mod"
    printf '\nrequire %s %s\n\n' "$PROVIDER_MODULE" "$PSEUDO"
    # The provider's go.mod points sdk/v4 at ../sdk (the monorepo); use the published one.
    printf 'replace %s => %s v%s\n' "$SDK_MODULE" "$SDK_MODULE" "$VERSION"
  } >"$staging/src/go.mod"
  (
    cd "$staging/src"
    # Writes schema-embed.json (version set) and terraform-mapping-embed.json, which main.go embeds.
    VERSION="$VERSION" go run generate.go
    rm generate.go
    go build -trimpath -ldflags "-s -w -X $VERSION_VAR=$VERSION" -o "$staging/bin/$BINARY" .
  ) >>"$logfile" 2>&1 || die_with_log "building $BINARY $VERSION failed" "$logfile"
  [[ -x "$staging/bin/$BINARY" ]] || die_with_log "go build produced no $BINARY" "$logfile"
  # No -version flag: check that the schema it serves carries the version (generate.go set it).
  grep -aq "\"version\":\"$VERSION\"" "$staging/bin/$BINARY" ||
    die_with_log "the built $BINARY does not embed a schema of version $VERSION" "$logfile"
  (cd "$staging/src" && go list -m all) >>"$logfile" 2>&1 || true
  printf '%s %s\n%s => %s v%s\n' "$PROVIDER_MODULE" "$PSEUDO" "$SDK_MODULE" "$SDK_MODULE" "$VERSION" >"$staging/source.txt"
  rm -rf "$staging/src"
  publish_staging "$staging" "$final"
}

main() {
  local start final status
  start="$(now_seconds)"
  final="$(cache_entry "$ENTRY")"
  [[ -x "$final/bin/$BINARY" ]] || lock_entry "$ENTRY"
  if [[ -x "$final/bin/$BINARY" ]]; then
    status=cached
  else
    setup_go
    build
    status=built
  fi
  log "$BINARY $VERSION: $status ($final/bin) in $(($(now_seconds) - start)) s"
  result "$BINARY" "$VERSION" "$status" "$(($(now_seconds) - start))" "$final/bin"
}

main "$@"
