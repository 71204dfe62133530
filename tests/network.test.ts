import type { ClusterNetworkArgs } from "../components/network/clusterNetwork";
import { evaluateProgram } from "./harness";

const SECGROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule";
const EXISTING_SUBNET = "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c";
const EXISTING_NETWORK = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";

const baseArgs: ClusterNetworkArgs = {
  clusterName: "t",
  placement: { mode: "create", mtu: 1450, dnsNameservers: ["10.0.0.2"] },
  nodeCidr: "10.20.0.0/22",
  externalNetwork: "public",
  adminCidrs: ["203.0.113.0/24"],
  apiBehindLoadBalancer: true,
  sshEnabled: false,
  protect: true,
};

function buildNetwork(args: ClusterNetworkArgs) {
  return () => {
    const { ClusterNetwork } =
      require("../components/network/clusterNetwork") as typeof import("../components/network/clusterNetwork");
    const network = new ClusterNetwork("t-network", args);
    return {
      networkId: network.networkId,
      subnetId: network.subnetId,
      routerId: network.routerId,
      nodeCidr: network.nodeCidr,
      securityGroupIds: network.securityGroupIds,
    };
  };
}

describe("ClusterNetwork, create mode", () => {
  it("creates network, subnet, router to the external network and the interface, wired by id", async () => {
    const run = await evaluateProgram(buildNetwork(baseArgs));
    const network = run.one("openstack:networking/network:Network", "t-network");
    const subnet = run.one("openstack:networking/subnet:Subnet", "t-nodes");
    const router = run.one("openstack:networking/router:Router", "t-router");
    const routerInterface = run.one("openstack:networking/routerInterface:RouterInterface", "t-router-nodes");

    expect(network.inputs).toMatchObject({ mtu: 1450, portSecurityEnabled: true });
    expect(subnet.inputs).toMatchObject({
      networkId: run.outputs.networkId,
      cidr: "10.20.0.0/22",
      gatewayIp: "10.20.0.1",
      dnsNameservers: ["10.0.0.2"],
      allocationPools: [{ start: "10.20.0.11", end: "10.20.3.254" }],
    });
    // The router's gateway is the external network found by name, through the non-deprecated input.
    expect(router.inputs.externalNetworkId).toMatch(/^[0-9a-f-]{36}$/);
    expect(router.inputs).not.toHaveProperty("externalGateway");
    expect(routerInterface.inputs).toMatchObject({ routerId: run.outputs.routerId, subnetId: run.outputs.subnetId });
    // Protected where asked: the network pieces that everything else stands on.
    for (const r of [network, subnet, router]) expect(r.options.protect).toBe(true);
    // Every resource is a child of the component (or of its security groups).
    expect(
      run.resources.filter((r) => r.type !== "istio-openstack:network:ClusterNetwork").every((r) => r.parent),
    ).toBe(true);
  });

  it("opens the API only to admin CIDRs and the LB subnet, and never SSH without a keypair", async () => {
    const run = await evaluateProgram(buildNetwork(baseArgs));
    const rules = run.ofType(SECGROUP_RULE);
    expect(rules.every((r) => r.inputs.remoteIpPrefix !== "0.0.0.0/0")).toBe(true);
    expect(rules.some((r) => r.inputs.portRangeMin === 22)).toBe(false);
    const ids = run.outputs.securityGroupIds as Record<string, string>;
    const apiFromAdmin = rules.filter(
      (r) => r.inputs.portRangeMin === 6443 && r.inputs.remoteIpPrefix === "203.0.113.0/24",
    );
    // Behind Octavia, the admin CIDRs are allowed on the load balancer's group, not on the nodes.
    expect(apiFromAdmin.map((r) => r.inputs.securityGroupId)).toEqual([ids.apiLoadBalancer]);
    // etcd only between control-plane nodes, by remote group.
    const etcd = rules.filter((r) => r.inputs.portRangeMin === 2379);
    expect(etcd.map((r) => [r.inputs.securityGroupId, r.inputs.remoteGroupId, r.inputs.portRangeMax])).toEqual([
      [ids.controlPlane, ids.controlPlane, 2380],
    ]);
  });

  it("with a single control-plane node: no load-balancer group, the API opens to admin CIDRs on the node", async () => {
    const run = await evaluateProgram(buildNetwork({ ...baseArgs, apiBehindLoadBalancer: false, sshEnabled: true }));
    const ids = run.outputs.securityGroupIds as Record<string, string>;
    expect(ids.apiLoadBalancer).toBeUndefined();
    expect(
      run
        .ofType("openstack:networking/secGroup:SecGroup")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["t-control-plane", "t-worker"]);
    const adminRules = run.ofType(SECGROUP_RULE).filter((r) => r.inputs.remoteIpPrefix === "203.0.113.0/24");
    expect(
      adminRules
        .map((r) => `${r.inputs.securityGroupId === ids.controlPlane ? "cp" : "worker"}:${r.inputs.portRangeMin}`)
        .sort(),
    ).toEqual(["cp:22", "cp:6443", "worker:22"]);
  });
});

describe("ClusterNetwork, bring-your-own network", () => {
  const existing: ClusterNetworkArgs = {
    ...baseArgs,
    placement: { mode: "existing", networkId: EXISTING_NETWORK, subnetId: EXISTING_SUBNET },
  };

  it("creates no network, subnet or router, only the security groups, and exports the given ids", async () => {
    const run = await evaluateProgram(buildNetwork(existing), {
      subnets: { [EXISTING_SUBNET]: { cidr: "10.20.0.0/22" } },
    });
    for (const type of ["network:Network", "subnet:Subnet", "router:Router", "routerInterface:RouterInterface"]) {
      expect(run.ofType(`openstack:networking/${type}`)).toHaveLength(0);
    }
    expect(run.ofType("openstack:networking/secGroup:SecGroup")).toHaveLength(3);
    expect(run.outputs).toMatchObject({
      networkId: EXISTING_NETWORK,
      subnetId: EXISTING_SUBNET,
      nodeCidr: "10.20.0.0/22",
    });
  });

  it("refuses when the existing subnet's CIDR is not nodeCidr (the rules would open the wrong range)", () => {
    const { checkExistingSubnetCidr } =
      require("../components/network/clusterNetwork") as typeof import("../components/network/clusterNetwork");
    expect(() => checkExistingSubnetCidr(EXISTING_SUBNET, "192.168.0.0/24", "10.20.0.0/22")).toThrow(
      /has CIDR 192\.168\.0\.0\/24, but nodeCidr is 10\.20\.0\.0\/22: set nodeCidr to 192\.168\.0\.0\/24/,
    );
    expect(checkExistingSubnetCidr(EXISTING_SUBNET, "10.20.0.0/22", "10.20.0.0/22")).toBe("10.20.0.0/22");
  });
});
