import type { ClusterNetworkArgs } from "../components/network/clusterNetwork";
import { evaluateProgram } from "./harness";

const SECGROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule";
const EXISTING_SUBNET = "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c";
const EXISTING_NETWORK = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
const EXISTING_ROUTER = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

const baseArgs: ClusterNetworkArgs = {
  clusterName: "t",
  placement: { mode: "create", mtu: 1450, dnsNameservers: ["10.0.0.2"] },
  nodeCidr: "10.20.0.0/22",
  externalNetwork: "public",
  adminCidrs: ["203.0.113.0/24"],
  apiBehindLoadBalancer: true,
  loadBalancerProvider: "amphora",
  gatewayNodePorts: { ports: [30080, 30443], sources: [] },
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

  /** Who may reach 6443, by group: remote groups by role, CIDRs as given. */
  function apiSources(run: Awaited<ReturnType<typeof evaluateProgram>>): Record<string, string[]> {
    const ids = run.outputs.securityGroupIds as Record<string, string | undefined>;
    const role = (id: unknown) => Object.keys(ids).find((k) => ids[k] === id) ?? String(id);
    const sources: Record<string, string[]> = {};
    for (const r of run.ofType(SECGROUP_RULE).filter((rule) => rule.inputs.portRangeMin === 6443)) {
      const group = role(r.inputs.securityGroupId);
      sources[group] = [
        ...(sources[group] ?? []),
        String(r.inputs.remoteIpPrefix ?? `group:${role(r.inputs.remoteGroupId)}`),
      ];
    }
    for (const group of Object.keys(sources)) sources[group].sort();
    return sources;
  }

  it("admits the router's gateway address to the API: nodes reach it through the floating IP, SNAT'ed by the router", async () => {
    for (const apiBehindLoadBalancer of [true, false]) {
      const run = await evaluateProgram(buildNetwork({ ...baseArgs, apiBehindLoadBalancer }));
      // What Neutron reports as the router's gateway address.
      const routerState = run.computedOutputs["openstack:networking/router:Router::t-router"] as {
        externalFixedIps: { ipAddress: string }[];
      };
      const gateway = `${routerState.externalFixedIps[0].ipAddress}/32`;
      const sources = apiSources(run);
      if (apiBehindLoadBalancer) {
        // On the load balancer's VIP group (where the admin CIDRs are); the amphorae reach the nodes from the subnet.
        expect(sources.apiLoadBalancer).toEqual(["10.20.0.0/22", "203.0.113.0/24", gateway].sort());
        expect(sources.controlPlane).toEqual(["10.20.0.0/22", "group:controlPlane", "group:worker"]);
      } else {
        expect(sources.controlPlane).toEqual(["203.0.113.0/24", gateway, "group:controlPlane", "group:worker"].sort());
      }
    }
  });

  it("OVN: the listener cannot filter and clients arrive as themselves, so the nodes' groups admit the API's and the gateway's sources", async () => {
    const run = await evaluateProgram(
      buildNetwork({
        ...baseArgs,
        loadBalancerProvider: "ovn",
        gatewayNodePorts: { ports: [30080, 30443], sources: ["198.51.100.0/24"] },
      }),
    );
    const ids = run.outputs.securityGroupIds as Record<string, string | undefined>;
    // No group on the VIP: OVN hands the traffic to the members, whose group sees the client.
    expect(ids.apiLoadBalancer).toBeUndefined();
    const gateway = `${(run.computedOutputs["openstack:networking/router:Router::t-router"] as { externalFixedIps: { ipAddress: string }[] }).externalFixedIps[0].ipAddress}/32`;
    expect(apiSources(run).controlPlane).toEqual(
      ["10.20.0.0/22", "203.0.113.0/24", gateway, "group:controlPlane", "group:worker"].sort(),
    );
    const gatewayPorts = run
      .ofType(SECGROUP_RULE)
      .filter((r) => r.inputs.securityGroupId === ids.worker && [30080, 30443].includes(Number(r.inputs.portRangeMin)))
      .map((r) => `${r.inputs.portRangeMin}-${r.inputs.portRangeMax} ${r.inputs.remoteIpPrefix}`)
      .sort();
    expect(gatewayPorts).toEqual(["30080-30080 198.51.100.0/24", "30443-30443 198.51.100.0/24"]);
  });

  it("the gateway's NodePorts open to everyone without source ranges (no Octavia), and stay closed behind an amphora", async () => {
    const worldRules = async (args: ClusterNetworkArgs) =>
      (await evaluateProgram(buildNetwork(args)))
        .ofType(SECGROUP_RULE)
        .filter((r) => r.inputs.remoteIpPrefix === "0.0.0.0/0")
        .map((r) => r.inputs.portRangeMin)
        .sort();
    expect(await worldRules({ ...baseArgs, apiBehindLoadBalancer: false, loadBalancerProvider: "none" })).toEqual([
      30080, 30443,
    ]);
    expect(await worldRules(baseArgs)).toEqual([]);
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
    placement: { mode: "existing", networkId: EXISTING_NETWORK, subnetId: EXISTING_SUBNET, routerId: EXISTING_ROUTER },
  };

  it("admits the existing router's gateway address (its first IPv4 one) to the API", async () => {
    const run = await evaluateProgram(buildNetwork(existing), {
      subnets: { [EXISTING_SUBNET]: { cidr: "10.20.0.0/22" } },
      routers: {
        [EXISTING_ROUTER]: { externalFixedIps: [{ ipAddress: "2001:db8::7" }, { ipAddress: "198.51.100.77" }] },
      },
    });
    const ids = run.outputs.securityGroupIds as Record<string, string>;
    const fromRouter = run
      .ofType(SECGROUP_RULE)
      .filter((r) => r.inputs.portRangeMin === 6443 && r.inputs.remoteIpPrefix === "198.51.100.77/32");
    expect(fromRouter.map((r) => r.inputs.securityGroupId)).toEqual([ids.apiLoadBalancer]);
  });

  it("refuses a router with no external IPv4 address, saying what to do", () => {
    const { routerGatewayAddress } =
      require("../components/network/layout") as typeof import("../components/network/layout");
    expect(() => routerGatewayAddress(EXISTING_ROUTER, [{ ipAddress: "2001:db8::7" }])).toThrow(
      /router .* has no external IPv4 address: give it a gateway on the external network \(openstack router set --external-gateway/,
    );
    expect(routerGatewayAddress(EXISTING_ROUTER, [{ ipAddress: "203.0.113.9" }, { ipAddress: "203.0.113.10" }])).toBe(
      "203.0.113.9",
    );
  });

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
