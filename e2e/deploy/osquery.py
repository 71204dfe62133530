"""What an e2e deployment holds in OpenStack, read through the OpenStack APIs (openstacksdk, the
library under the `openstack` CLI), as JSON on stdout. One process and one token for many queries:
each `openstack` CLI call re-authenticates and costs seconds.

Run with the Python that has openstacksdk (Debian's /usr/bin/python3); the cloud comes from
clouds.yaml (OS_CLOUD and OS_CLIENT_CONFIG_FILE).

  osquery.py snapshot PREFIX...   everything whose name (or floating IP description) starts with one
                                  of the prefixes, plus whatever sits on those networks
  osquery.py alive FILE           which of the resources listed in FILE (JSON: [{type, id, inputs}],
                                  Pulumi types and ids) still exist
Exit 0 with JSON on stdout; 2 when the APIs cannot be asked (message on stderr).
"""
import json
import sys

import openstack
from openstack import exceptions as sdk_exc


def named(prefixes, name):
    return bool(name) and any(name.startswith(p) for p in prefixes)


def snapshot(conn, prefixes):
    net = conn.network
    lb = conn.load_balancer
    project_id = conn.current_project_id
    out = {"project_id": project_id}

    out["servers"] = [
        {"id": s.id, "name": s.name, "status": s.status, "created": s.created_at,
         "addresses": s.addresses, "flavor": (s.flavor or {}).get("original_name") or (s.flavor or {}).get("id")}
        for s in conn.compute.servers(details=True) if named(prefixes, s.name)]
    out["server_groups"] = [
        {"id": g.id, "name": g.name, "policies": g.policies or ([g.policy] if getattr(g, "policy", None) else []),
         "members": g.member_ids}
        for g in conn.compute.server_groups() if named(prefixes, g.name)]
    out["keypairs"] = [{"id": k.name, "name": k.name} for k in conn.compute.keypairs() if named(prefixes, k.name)]

    networks = [n for n in net.networks(project_id=project_id) if named(prefixes, n.name)]
    out["networks"] = [{"id": n.id, "name": n.name, "mtu": n.mtu} for n in networks]
    network_ids = {n.id for n in networks}
    out["subnets"] = [{"id": s.id, "name": s.name, "cidr": s.cidr, "network_id": s.network_id}
                      for s in net.subnets(project_id=project_id)
                      if named(prefixes, s.name) or s.network_id in network_ids]
    def router_view(r):
        gateway = r.external_gateway_info or {}
        return {"id": r.id, "name": r.name, "external_network_id": gateway.get("network_id"),
                "external_ips": [ip["ip_address"] for ip in gateway.get("external_fixed_ips") or []]}

    out["routers"] = [router_view(r) for r in net.routers(project_id=project_id) if named(prefixes, r.name)]
    ports = [p for p in net.ports(project_id=project_id)
             if named(prefixes, p.name) or p.network_id in network_ids]
    out["ports"] = [{"id": p.id, "name": p.name, "network_id": p.network_id, "device_owner": p.device_owner,
                     "device_id": p.device_id, "fixed_ips": [ip["ip_address"] for ip in p.fixed_ips or []],
                     "security_group_ids": p.security_group_ids}
                    for p in ports]
    port_ids = {p.id for p in ports}
    out["floating_ips"] = [
        {"id": f.id, "address": f.floating_ip_address, "port_id": f.port_id,
         "fixed_ip": f.fixed_ip_address, "description": f.description}
        for f in net.ips(project_id=project_id)
        if named(prefixes, f.description) or (f.port_id and f.port_id in port_ids)]
    def ingress_rule(rule):
        return {"protocol": rule.get("protocol"), "port_min": rule.get("port_range_min"),
                "port_max": rule.get("port_range_max"), "remote_ip_prefix": rule.get("remote_ip_prefix"),
                "remote_group_id": rule.get("remote_group_id")}

    out["security_groups"] = [
        {"id": g.id, "name": g.name, "rules": len(g.security_group_rules or []),
         "ingress": [ingress_rule(r) for r in g.security_group_rules or [] if r.get("direction") == "ingress"]}
        for g in net.security_groups(project_id=project_id) if named(prefixes, g.name)]

    def ids(refs):
        return {ref["id"] if isinstance(ref, dict) else ref for ref in refs or []}

    balancers = []
    all_pools = list(lb.pools(project_id=project_id))
    all_listeners = list(lb.listeners(project_id=project_id))
    for x in lb.load_balancers(project_id=project_id):
        if not named(prefixes, x.name):
            continue
        pools = []
        for pool in (p for p in all_pools if x.id in ids(p.loadbalancers)):
            members = [{"id": m.id, "name": m.name, "address": m.address, "protocol_port": m.protocol_port,
                        "provisioning_status": m.provisioning_status, "operating_status": m.operating_status}
                       for m in lb.members(pool.id)]
            pools.append({"id": pool.id, "name": pool.name, "protocol": pool.protocol,
                          "provisioning_status": pool.provisioning_status,
                          "health_monitor_id": pool.health_monitor_id, "members": members})
        listeners = [{"id": li.id, "name": li.name, "protocol": li.protocol, "protocol_port": li.protocol_port,
                      "allowed_cidrs": li.allowed_cidrs, "provisioning_status": li.provisioning_status}
                     for li in all_listeners if x.id in ids(li.load_balancers)]
        balancers.append({"id": x.id, "name": x.name, "provisioning_status": x.provisioning_status,
                          "operating_status": x.operating_status, "vip_port_id": x.vip_port_id,
                          "vip_address": x.vip_address, "listeners": listeners, "pools": pools})
    out["load_balancers"] = balancers
    out["application_credentials"] = [
        {"id": c.id, "name": c.name, "unrestricted": c.unrestricted,
         "roles": sorted(r.get("name") for r in c.roles or [])}
        for c in conn.identity.application_credentials(user=conn.current_user_id) if named(prefixes, c.name)]
    return out


def gone_or_alive(conn, resource):
    """True when the resource still exists."""
    kind, rid, inputs = resource["type"], resource["id"], resource.get("inputs") or {}
    net, lb = conn.network, conn.load_balancer
    getters = {
        "openstack:compute/instance:Instance": lambda: conn.compute.get_server(rid),
        "openstack:compute/serverGroup:ServerGroup": lambda: conn.compute.get_server_group(rid),
        "openstack:compute/keypair:Keypair": lambda: conn.compute.get_keypair(rid),
        "openstack:networking/network:Network": lambda: net.get_network(rid),
        "openstack:networking/subnet:Subnet": lambda: net.get_subnet(rid),
        "openstack:networking/router:Router": lambda: net.get_router(rid),
        "openstack:networking/routerInterface:RouterInterface": lambda: net.get_port(rid),
        "openstack:networking/port:Port": lambda: net.get_port(rid),
        "openstack:networking/secGroup:SecGroup": lambda: net.get_security_group(rid),
        "openstack:networking/secGroupRule:SecGroupRule": lambda: net.get_security_group_rule(rid),
        "openstack:networking/floatingIp:FloatingIp": lambda: net.get_ip(rid),
        "openstack:loadbalancer/loadBalancer:LoadBalancer": lambda: lb.get_load_balancer(rid),
        "openstack:loadbalancer/listener:Listener": lambda: lb.get_listener(rid),
        "openstack:loadbalancer/pool:Pool": lambda: lb.get_pool(rid),
        "openstack:loadbalancer/member:Member": lambda: lb.get_member(rid, inputs.get("poolId")),
        "openstack:loadbalancer/monitor:Monitor": lambda: lb.get_health_monitor(rid),
        "openstack:identity/applicationCredential:ApplicationCredential":
            lambda: conn.identity.get_application_credential(conn.current_user_id, rid),
    }
    if kind == "openstack:networking/floatingIpAssociate:FloatingIpAssociate":
        # The association's id is the floating IP's; it is gone once the IP is gone or on no port.
        try:
            return net.get_ip(rid).port_id is not None
        except sdk_exc.NotFoundException:
            return False
    getter = getters.get(kind)
    if getter is None:
        raise SystemExit(f"osquery: no API check for resource type {kind}")
    try:
        found = getter()
    except sdk_exc.NotFoundException:
        return False
    return getattr(found, "provisioning_status", None) != "DELETED"


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("snapshot", "alive"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        conn = openstack.connect()
        conn.authorize()
        if sys.argv[1] == "snapshot":
            result = snapshot(conn, sys.argv[2:])
        else:
            with open(sys.argv[2], encoding="utf-8") as f:
                resources = json.load(f)
            result = [r for r in resources if gone_or_alive(conn, r)]
    except (sdk_exc.SDKException, OSError) as error:
        print(f"osquery: {error}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
