"""Bootstrap and health checks of the local OpenStack control plane, through its APIs (openstacksdk).

Run with Debian's /usr/bin/python3 and OS_CLIENT_CONFIG_FILE pointing at the rendered clouds.yaml.
Every step is idempotent: it creates what is missing and leaves the rest alone.

    cloud.py identity   service project and users, e2e project and user, roles, catalog
    cloud.py health     every API answers, compute services up, the fake OVS agent alive
    cloud.py resources  what a real cloud already has: external network, image, flavors, quotas
"""
import argparse
import os
import sys
import time

import openstack
from openstack import exceptions as sdk_exc

ADMIN_CLOUD = "e2e-admin"
PROJECT_CLOUD = "e2e"
REGION = "RegionOne"
SERVICE_PROJECT = "service"
E2E_PROJECT = "e2e"
E2E_USER = "e2e"
# Roles the e2e user holds on its project. `member` for Nova/Neutron/Glance; Octavia's default policy
# (Zed) wants `load-balancer_member` (plus project ownership) to create load balancers.
E2E_ROLES = ("member", "load-balancer_member")
EXTRA_ROLES = (
    "service",
    "load-balancer_member",
    "load-balancer_observer",
    "load-balancer_global_observer",
    "load-balancer_admin",
)
# (user, service name, service type, endpoint URL); identity comes from keystone-manage bootstrap.
SERVICES = (
    ("glance", "glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "neutron", "network", "http://127.0.0.1:9696"),
    ("octavia", "octavia", "load-balancer", "http://127.0.0.1:9876"),
)
FLAVORS = (  # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 2048, 20),
    ("m1.medium", 2, 4096, 40),
    ("m1.large", 4, 8192, 80),
    ("m1.xlarge", 8, 16384, 160),
)
IMAGE_NAME = "e2e-image"
EXTERNAL_NETWORK = "public"
EXTERNAL_SUBNET = "public-subnet"
EXTERNAL_CIDR = "198.51.100.0/24"  # RFC 5737 documentation range: nothing is routed anywhere
COMPUTE_QUOTAS = dict(instances=50, cores=200, ram=512000, key_pairs=50,
                      server_groups=20, server_group_members=20)
NETWORK_QUOTAS = dict(network=50, subnet=50, port=500, router=20, floatingip=50,
                      security_group=50, security_group_rule=1000)


def connect(cloud: str) -> openstack.connection.Connection:
    return openstack.connect(cloud=cloud, api_timeout=60)


def step(message: str) -> None:
    print(f"  cloud.py: {message}", flush=True)


def ensure_identity(env: dict) -> None:
    conn = connect(ADMIN_CLOUD)
    idp = conn.identity
    domain_id = "default"

    roles = {}
    for name in ("admin", "member", "reader") + EXTRA_ROLES:
        role = idp.find_role(name)
        if role is None:
            role = idp.create_role(name=name)
            step(f"role {name} created")
        roles[name] = role

    def project(name: str, description: str):
        found = idp.find_project(name, domain_id=domain_id)
        if found is None:
            found = idp.create_project(name=name, domain_id=domain_id, description=description)
            step(f"project {name} created")
        return found

    def user(name: str, password: str, default_project):
        found = idp.find_user(name, domain_id=domain_id)
        if found is None:
            found = idp.create_user(name=name, password=password, domain_id=domain_id,
                                    default_project_id=default_project.id)
            step(f"user {name} created")
        return found

    service_project = project(SERVICE_PROJECT, "OpenStack service users")
    e2e_project = project(E2E_PROJECT, "Project of the e2e tests")
    e2e_user = user(E2E_USER, env["E2E_PASSWORD"], e2e_project)
    for role in E2E_ROLES:
        idp.assign_project_role_to_user(e2e_project, e2e_user, roles[role])

    existing_services = {(s.name, s.type): s for s in idp.services()}
    existing_endpoints = {(e.service_id, e.interface) for e in idp.endpoints()}
    for username, service_name, service_type, url in SERVICES:
        svc_user = user(username, env["SERVICE_PASSWORD"], service_project)
        for role in ("admin", "service"):
            idp.assign_project_role_to_user(service_project, svc_user, roles[role])
        service = existing_services.get((service_name, service_type))
        if service is None:
            service = idp.create_service(name=service_name, type=service_type, is_enabled=True)
            step(f"service {service_name} ({service_type}) created")
        for interface in ("public", "internal", "admin"):
            if (service.id, interface) not in existing_endpoints:
                idp.create_endpoint(service_id=service.id, interface=interface, url=url,
                                    region_id=REGION, is_enabled=True)
    step("identity ready (projects, users, roles, catalog)")


def check_health(timeout: int, compute_host: str) -> None:
    """Waits (bounded) for what the APIs report about the services behind them."""
    deadline = time.monotonic() + timeout
    pending = {}

    def done(name: str, ok: bool, detail: str) -> bool:
        if ok:
            pending.pop(name, None)
        else:
            pending[name] = detail
        return ok

    while True:
        try:
            conn = connect(ADMIN_CLOUD)
            services = list(conn.compute.services())
            for binary in ("nova-conductor", "nova-scheduler", "nova-compute"):
                states = [(s.host, s.state, s.status) for s in services if s.binary == binary]
                done(binary, any(st == "up" and status == "enabled" for _, st, status in states),
                     f"compute service {binary}: {states or 'not registered'}")
            hypervisors = [h.name for h in conn.compute.hypervisors()]
            done("hypervisor", bool(hypervisors), "no hypervisor mapped (discover_hosts)")
            agents = [a for a in conn.network.agents(host=compute_host)
                      if a.agent_type == "Open vSwitch agent"]
            done("ovs-agent", any(a.is_alive for a in agents),
                 f"Open vSwitch agent on {compute_host}: "
                 f"{[(a.id, a.is_alive) for a in agents] or 'not registered'}")
            providers = [p.name for p in conn.load_balancer.providers()]
            done("octavia", "amphora" in providers, f"octavia providers: {providers}")
            rps = conn.placement.get("/resource_providers",
                                     microversion="1.14").json()["resource_providers"]
            done("placement", bool(rps), "placement has no resource provider yet")
            list(conn.image.images(limit=1))
            project = connect(PROJECT_CLOUD)
            project.authorize()
            done("api", True, "")
        except (sdk_exc.SDKException, OSError) as error:
            done("api", False, f"API error: {error}")
        if not pending:
            step("health: compute services up, hypervisor mapped, OVS agent alive, "
                 "octavia/placement/glance answer, e2e user authenticates")
            return
        if time.monotonic() >= deadline:
            raise SystemExit("health check failed after %ds:\n  %s" % (
                timeout, "\n  ".join(f"{k}: {v}" for k, v in sorted(pending.items()))))
        time.sleep(2)


def ensure_resources(env: dict) -> None:
    conn = connect(ADMIN_CLOUD)

    net = conn.network.find_network(EXTERNAL_NETWORK)
    if net is None:
        net = conn.network.create_network(
            name=EXTERNAL_NETWORK, is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network=env["PHYSNET"])
        step(f"network {EXTERNAL_NETWORK} created")
    subnet = conn.network.find_subnet(EXTERNAL_SUBNET, network_id=net.id)
    if subnet is None:
        conn.network.create_subnet(
            name=EXTERNAL_SUBNET, network_id=net.id, ip_version=4, cidr=EXTERNAL_CIDR,
            gateway_ip="198.51.100.1", is_dhcp_enabled=False,
            allocation_pools=[{"start": "198.51.100.10", "end": "198.51.100.250"}])
        step(f"subnet {EXTERNAL_SUBNET} {EXTERNAL_CIDR} created")

    image = conn.image.find_image(IMAGE_NAME)
    if image is not None and image.status != "active":
        conn.image.delete_image(image)
        image = None
    if image is None:
        path = os.path.join(env["OS_DATA"], "e2e-image.raw")
        with open(path, "wb") as handle:
            handle.write(b"\0" * 65536)
        conn.create_image(IMAGE_NAME, filename=path, disk_format="raw", container_format="bare",
                          visibility="public", wait=True, timeout=120,
                          meta={"os_distro": "debian", "os_type": "linux"})
        step(f"image {IMAGE_NAME} uploaded")

    flavors = {f.name for f in conn.compute.flavors(is_public=None)}
    for name, vcpus, ram, disk in FLAVORS:
        if name not in flavors:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk,
                                       is_public=True)
            step(f"flavor {name} created")

    project = conn.identity.find_project(E2E_PROJECT, domain_id="default")
    conn.set_compute_quotas(project.id, **COMPUTE_QUOTAS)
    conn.set_network_quotas(project.id, **NETWORK_QUOTAS)
    step(f"resources ready: network {EXTERNAL_NETWORK} ({EXTERNAL_CIDR}), image {IMAGE_NAME}, "
         f"flavors {', '.join(f[0] for f in FLAVORS)}, quotas of project {E2E_PROJECT}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("identity", "health", "resources"))
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    env = os.environ
    if args.command == "identity":
        ensure_identity(env)
    elif args.command == "health":
        check_health(args.timeout, env["COMPUTE_HOST"])
    else:
        ensure_resources(env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
