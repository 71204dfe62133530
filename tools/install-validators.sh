#!/usr/bin/env bash
# Installs the real validators the test suite runs on generated artifacts, from Debian's packages:
# ShellCheck, cloud-init's own `cloud-init schema`, and Prometheus's promtool and amtool; and the
# nodes' containerd, built from the Go module proxy. cloud-init is unpacked into a cache folder rather
# than installed, so this machine does not start behaving like a cloud instance at boot.
# Idempotent; prints the cloud-init launcher path last.
set -euo pipefail

cache="${E2E_CACHE_DIR:-${HOME}/.cache/istio-openstack-e2e}"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

python_deps=(python3-yaml python3-jsonschema python3-jinja2 python3-configobj python3-jsonpatch
  python3-netifaces python3-requests python3-oauthlib python3-serial)
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
for package in "${python_deps[@]}"; do
  dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" || missing+=("${package}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-validators: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

launcher="${cache}/cloud-init/bin/cloud-init"
if [ ! -x "${launcher}" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "${work}"' EXIT
  (cd "${work}" && apt-get download cloud-init >&2)
  mkdir -p "${work}/root"
  dpkg-deb -x "${work}"/cloud-init_*.deb "${work}/root"
  mkdir -p "${work}/root/bin"
  cat >"${work}/root/bin/cloud-init" <<'LAUNCHER'
#!/usr/bin/env bash
root="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="${root}/usr/lib/python3/dist-packages${PYTHONPATH:+:${PYTHONPATH}}" exec /usr/bin/python3 -m cloudinit.cmd.main "$@"
LAUNCHER
  chmod +x "${work}/root/bin/cloud-init"
  mkdir -p "${cache}"
  rm -rf "${cache}/cloud-init.partial"
  mv "${work}/root" "${cache}/cloud-init.partial"
  mv "${cache}/cloud-init.partial" "${cache}/cloud-init"
fi
# promtool and amtool (the alerting rules and the Alertmanager configuration the program renders):
# Debian bookworm's prometheus and prometheus-alertmanager packages, only these two binaries taken
# out, so no Prometheus daemon is installed or started here.
prometheus_tools="${cache}/prometheus-tools"
if [ ! -x "${prometheus_tools}/bin/promtool" ] || [ ! -x "${prometheus_tools}/bin/amtool" ]; then
  tools_work=$(mktemp -d)
  trap 'rm -rf "${work:-}" "${tools_work}"' EXIT
  (cd "${tools_work}" && { apt-get download prometheus prometheus-alertmanager >&2 ||
    { as_root apt-get update -qq && apt-get download prometheus prometheus-alertmanager >&2; }; })
  mkdir -p "${tools_work}/root" "${tools_work}/tools/bin"
  for deb in "${tools_work}"/prometheus_*.deb "${tools_work}"/prometheus-alertmanager_*.deb; do dpkg-deb -x "${deb}" "${tools_work}/root"; done
  cp "${tools_work}/root/usr/bin/promtool" "${tools_work}/root/usr/bin/amtool" "${tools_work}/tools/bin/"
  mkdir -p "${cache}"
  rm -rf "${prometheus_tools}.partial" "${prometheus_tools}"
  mv "${tools_work}/tools" "${prometheus_tools}.partial"
  mv "${prometheus_tools}.partial" "${prometheus_tools}"
fi
"${prometheus_tools}/bin/promtool" --version 2>&1 | head -n 1 >&2
# The containerd release the nodes install, built from the Go module proxy (tools/containerd.sh): the
# tests ask it how it merges the configuration the program writes.
bash "$(dirname "${BASH_SOURCE[0]}")/containerd.sh" >&2

"${launcher}" --version >&2
echo "${launcher}"
