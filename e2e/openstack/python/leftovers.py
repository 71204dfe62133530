"""Lists, through the OpenStack APIs, what a project still holds of the resource types a Pulumi
OpenStack-layer deployment can create, leaving out what an empty project legitimately has.

Run with Debian's /usr/bin/python3 (openstacksdk); the cloud comes from clouds.yaml (OS_CLOUD and
OS_CLIENT_CONFIG_FILE, or --cloud). Prints a table of counts; exit 0 when nothing is left, 1 when
something is (each leftover named), 2 when the APIs cannot be asked.

What an empty project legitimately has, and so is not counted:
  - the security group `default` and its own four rules (egress any IPv4/IPv6, ingress from
    members of `default`); other rules added to `default` are counted;
  - the external network(s) (router:external, e.g. `public`) and their subnets, which belong to the
    admin; ports on an external network (router gateways and floating-IP ports belong to no
    project, and disappear with their router or floating IP, which are counted themselves);
  - public images and flavors (the cloud's, not the project's).
"""
import argparse
import sys

import openstack
from openstack import exceptions as sdk_exc


def default_rule(rule, default_group_id):
    """One of the rules Neutron creates in every project's `default` group."""
    if rule.direction == "egress":
        return (rule.protocol is None and rule.remote_ip_prefix is None
                and rule.remote_group_id is None and rule.port_range_min is None)
    return (rule.protocol is None and rule.remote_group_id == default_group_id
            and rule.port_range_min is None)


def label(resource, *fields):
    parts = [str(getattr(resource, field, None) or "") for field in fields]
    name = getattr(resource, "name", None) or ""
    return f"{name or '-'} ({', '.join(p for p in parts if p)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", default=None, help="cloud in clouds.yaml (default: OS_CLOUD)")
    parser.add_argument("--quiet", action="store_true", help="only the summary line")
    args = parser.parse_args()

    try:
        conn = openstack.connect(cloud=args.cloud, api_timeout=60)
        project_id = conn.current_project_id
        user_id = conn.current_user_id
    except (sdk_exc.SDKException, OSError) as error:
        print(f"leftovers: cannot authenticate: {error}", file=sys.stderr)
        return 2

    found = {}  # resource type -> list of labels; None when the service is absent

    def check(kind, list_fn):
        try:
            found[kind] = list_fn()
        except sdk_exc.EndpointNotFound:
            found[kind] = None
        except (sdk_exc.SDKException, OSError) as error:
            print(f"leftovers: cannot list {kind}: {error}", file=sys.stderr)
            raise SystemExit(2)

    net = conn.network
    external_ids = {n.id for n in net.networks(is_router_external=True)}

    check("servers", lambda: [label(s, "id", "status") for s in conn.compute.servers()])
    check("server groups", lambda: [label(g, "id") for g in conn.compute.server_groups()])
    check("keypairs", lambda: [label(k) for k in conn.compute.keypairs()])
    check("networks", lambda: [label(n, "id") for n in net.networks(project_id=project_id)
                               if n.id not in external_ids])
    check("subnets", lambda: [label(s, "id", "cidr") for s in net.subnets(project_id=project_id)
                              if s.network_id not in external_ids])
    check("ports", lambda: [label(p, "id", "device_owner")
                            for p in net.ports(project_id=project_id)
                            if p.network_id not in external_ids])
    check("routers", lambda: [label(r, "id") for r in net.routers(project_id=project_id)])
    check("floating IPs", lambda: [
        f"{f.floating_ip_address} ({f.id}{', ' + f.description if f.description else ''})"
        for f in net.ips(project_id=project_id)])

    groups = list(net.security_groups(project_id=project_id))
    default_ids = {g.id for g in groups if g.name == "default"}
    check("security groups", lambda: [label(g, "id") for g in groups if g.id not in default_ids])

    def rules():
        result = []
        for rule in net.security_group_rules(project_id=project_id):
            group = rule.security_group_id
            if group in default_ids and default_rule(rule, group):
                continue
            where = "default" if group in default_ids else group
            result.append(f"{rule.id} ({rule.direction} {rule.protocol or 'any'} "
                          f"{rule.port_range_min or ''}-{rule.port_range_max or ''} in {where})")
        return result

    check("security group rules", rules)

    lb = conn.load_balancer
    check("load balancers", lambda: [label(x, "id", "provisioning_status")
                                     for x in lb.load_balancers(project_id=project_id)])
    check("lb listeners", lambda: [label(x, "id", "protocol_port")
                                   for x in lb.listeners(project_id=project_id)])
    check("lb pools", lambda: [label(x, "id") for x in lb.pools(project_id=project_id)])
    check("lb health monitors", lambda: [label(x, "id", "type")
                                         for x in lb.health_monitors(project_id=project_id)])
    check("application credentials", lambda: [
        label(c, "id") for c in conn.identity.application_credentials(user=user_id)])
    check("images (project's own)", lambda: [
        label(i, "id", "visibility") for i in conn.image.images(owner=project_id)
        if i.visibility != "public"])
    if conn.has_service("block-storage") or conn.has_service("volumev3"):
        check("volumes", lambda: [label(v, "id", "status")
                                  for v in conn.block_storage.volumes()])
        check("volume snapshots", lambda: [label(s, "id", "status")
                                           for s in conn.block_storage.snapshots()])
    else:
        found["volumes"] = None

    left = {kind: items for kind, items in found.items() if items}
    if not args.quiet:
        print(f"{'RESOURCE':<26} COUNT   (project {project_id}, cloud {conn.config.name})")
        for kind, items in found.items():
            count = "n/a (no such service)" if items is None else str(len(items))
            print(f"{kind:<26} {count}")
        for kind, items in left.items():
            print(f"\n{kind}:")
            for item in items:
                print(f"  {item}")
    if left:
        summary = ", ".join(f"{kind}={len(items)}" for kind, items in left.items())
        print(f"\nleftovers: {summary}", file=sys.stderr)
        return 1
    print("\nleftovers: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
