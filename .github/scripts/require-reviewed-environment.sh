#!/usr/bin/env bash
# Refuses to let a protected stack's job go on in a GitHub environment that no reviewer guards.
#
#   require-reviewed-environment.sh <environment> <stack>
#
# A job that names an environment waits for that environment's protection rules before its first
# step and only then receives the environment's secrets (GitHub: "Managing environments for
# deployment"). An environment that a workflow names but nobody configured is created on the fly,
# unprotected. So the first step of every job that touches staging or prod credentials asks the
# REST API ("Get an environment": GITHUB_TOKEN with actions: read) whether the environment requires a
# reviewer, and stops the job if not. This catches a misconfigured repository; against a malicious
# pull request (which can edit this file) only the secrets' place protects: they must exist only as
# secrets of the protected environment (docs/security.md).
#
# Environment: GITHUB_REPOSITORY, GH_TOKEN (read by gh); PROTECTED_STACKS (default "staging prod").
set -euo pipefail

[ "$#" -eq 2 ] || { echo "usage: $0 <environment> <stack>" >&2; exit 2; }
environment=$1
stack=$2
: "${GITHUB_REPOSITORY:?}"

case " ${PROTECTED_STACKS:-staging prod} " in
  *" ${stack} "*) ;;
  *)
    echo "${stack} is not a protected stack: environment ${environment} needs no reviewer"
    exit 0
    ;;
esac

if ! settings=$(gh api "repos/${GITHUB_REPOSITORY}/environments/${environment}"); then
  echo "::error::cannot read the settings of environment ${environment} (the job needs permissions: actions: read); refusing to use ${stack}'s credentials"
  exit 1
fi
reviewers=$(jq -r '[.protection_rules[]? | select(.type == "required_reviewers")] | length' <<<"${settings}")
if [ "${reviewers}" -eq 0 ]; then
  echo "::error::environment ${environment} has no required reviewers: anyone who can push a branch could read ${stack}'s secrets through this job. Add required reviewers in Settings > Environments > ${environment} (and keep ${stack}'s secrets there only, never as repository secrets)."
  exit 1
fi
if [ "$(jq -r '[.protection_rules[]? | select(.type == "required_reviewers" and .prevent_self_review == true)] | length' <<<"${settings}")" -eq 0 ]; then
  echo "::warning::environment ${environment} lets the author of a change approve its own job; enable 'Prevent self-review'"
fi
if [ "$(jq -r 'if has("can_admins_bypass") then .can_admins_bypass else true end' <<<"${settings}")" = "true" ]; then
  echo "::warning::administrators can bypass the protection of ${environment}; consider disallowing it"
fi
echo "environment ${environment} requires a reviewer: ${stack}'s credentials are released only after an approval"
