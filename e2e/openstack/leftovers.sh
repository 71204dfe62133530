#!/usr/bin/env bash
# Lists, through the OpenStack APIs, what a project still holds of every resource type a Pulumi
# OpenStack-layer deployment can create (servers, server groups, keypairs, networks, subnets,
# ports, routers, floating IPs, security groups and rules, load balancers with listeners, pools and
# monitors, application credentials, private images, volumes where Cinder exists), minus what an
# empty project legitimately has (see python/leftovers.py). Prints a table of counts.
#
# Usage: e2e/openstack/leftovers.sh [--cloud NAME] [--quiet]
#   cloud: --cloud, else OS_CLOUD, else `e2e`; clouds.yaml: OS_CLIENT_CONFIG_FILE, else the one
#   start.sh wrote. Works against any OpenStack project given a clouds.yaml.
# Exit: 0 nothing left, 1 leftovers (named on stderr), 2 the APIs could not be asked.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if [[ -z "${OS_CLIENT_CONFIG_FILE:-}" && -r "$OS_CLOUDS_YAML" ]]; then
  export OS_CLIENT_CONFIG_FILE=$OS_CLOUDS_YAML
fi
export OS_CLOUD=${OS_CLOUD:-e2e}
exec "$OS_PY" "$OS_HOME/python/leftovers.py" "$@"
