#!/usr/bin/env bash
# Installs the Debian bookworm packages the local OpenStack control plane runs from
# (see shared E2E-FACTS.md section 3). Only the Python libraries and the infrastructure daemons:
# no `keystone`, `nova-compute`, ... daemon packages (they bring debconf flows, init scripts and a
# hypervisor). Idempotent: a quick no-op when everything is installed.
#
# Usage: e2e/openstack/install.sh            (as root)
set -euo pipefail

PACKAGES=(
  mariadb-server rabbitmq-server memcached
  uwsgi-core uwsgi-plugin-python3 python3-pymysql
  python3-keystone python3-glance python3-placement python3-nova python3-neutron python3-octavia
  python3-openstackclient python3-octaviaclient
)

started=$(date +%s)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install.sh: all ${#PACKAGES[@]} packages already installed ($(($(date +%s) - started)) s)"
  exit 0
fi

if ((EUID != 0)); then
  echo "install.sh: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"

# Keep maintainer scripts from starting daemons: a policy-rc.d that answers 101 while we install,
# then put back whatever was there before (or nothing).
POLICY=/usr/sbin/policy-rc.d
backup=""
if [[ -e "$POLICY" ]]; then
  backup=$(mktemp /tmp/policy-rc.d.XXXXXX)
  cp -p "$POLICY" "$backup"
fi
restore_policy() {
  if [[ -n "$backup" ]]; then
    cp -p "$backup" "$POLICY"
    rm -f "$backup"
  else
    rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# e2e/openstack/install.sh: no daemon starts during package installation\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
lists_age=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)
if [[ -z "$lists_age" ]]; then
  apt-get update -qq -o DPkg::Lock::Timeout=900
fi
# Other sessions may run apt on the same machine: wait for the dpkg lock instead of failing, keep
# apt's temporary files in a folder of our own, finish any interrupted dpkg run, and try twice.
export TMPDIR
TMPDIR=$(mktemp -d /var/tmp/e2e-openstack-apt.XXXXXX)
LOG=/var/tmp/e2e-openstack-apt.log
: >"$LOG"
APT_OPTS=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=900)
ok=false
for attempt in 1 2; do
  dpkg --configure -a >>"$LOG" 2>&1 || true
  if apt-get install "${APT_OPTS[@]}" "${PACKAGES[@]}" >>"$LOG" 2>&1; then
    ok=true
    break
  fi
  echo "install.sh: apt-get install attempt $attempt failed" >&2
done
rm -rf "$TMPDIR"
if [[ "$ok" != true ]]; then
  echo "install.sh: apt-get install failed; tail of $LOG:" >&2
  tail -n 40 "$LOG" >&2
  exit 1
fi

echo "install.sh: installed in $(($(date +%s) - started)) s"
