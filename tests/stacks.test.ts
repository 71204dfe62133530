import { evaluateStack } from "./harness";

const SECGROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule";

describe.each(["dev", "staging", "prod"])("the %s stack's whole graph", (stack) => {
  it("evaluates with one explicit OpenStack provider that every OpenStack resource descends from", async () => {
    const run = await evaluateStack(stack);
    const providers = run.ofType("pulumi:providers:openstack");
    expect(providers).toHaveLength(1);
    const byKey = new Map(run.resources.map((r) => [r.key, r]));
    const platform = run.resources.find((r) => r.type === "istio-openstack:index:Platform");
    expect(platform?.parent).toBeUndefined(); // a direct child of the stack
    // Everything but the stack and the platform itself sits under the platform component.
    const ancestors = (key: string | undefined): string[] => (key ? [key, ...ancestors(byKey.get(key)?.parent)] : []);
    for (const r of run.resources.filter((r) => r.type.startsWith("openstack:"))) {
      expect(ancestors(r.parent)).toContain(platform?.key);
    }
    expect(run.ofType(SECGROUP_RULE).every((r) => r.inputs.remoteIpPrefix !== "0.0.0.0/0")).toBe(true);
  });
});

describe("environment differences are deliberate", () => {
  it("dev: API on a floating IP (no LB group), nothing protected", async () => {
    const dev = await evaluateStack("dev");
    expect(
      dev
        .ofType("openstack:networking/secGroup:SecGroup")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["mesh-dev-control-plane", "mesh-dev-worker"]);
    expect(dev.resources.some((r) => r.options.protect)).toBe(false);
  });

  it("prod: API behind a load balancer group, network protected", async () => {
    const prod = await evaluateStack("prod");
    expect(prod.one("openstack:networking/secGroup:SecGroup", "mesh-prod-api-lb")).toBeDefined();
    const kept = [
      prod.one("openstack:networking/network:Network", "mesh-prod-network"),
      prod.one("openstack:networking/subnet:Subnet", "mesh-prod-nodes"),
      prod.one("openstack:networking/router:Router", "mesh-prod-router"),
    ];
    for (const resource of kept) expect(resource.options.protect).toBe(true);
  });

  it("the same config gives the same graph and inputs on every run", async () => {
    // Both evaluated now: a stored evaluation (tests/evaluationCache.ts) would compare with itself.
    const first = await evaluateStack("staging", {}, { fresh: true });
    const second = await evaluateStack("staging", {}, { fresh: true });
    const shape = (run: typeof first) => run.resources.map((r) => [r.key, r.parent, r.inputs]);
    expect(shape(second)).toEqual(shape(first));
    // And everything else recorded: order, dependencies, options, outputs, what the mocks computed.
    const recorded = ({ ofType, one, ...data }: typeof first) => data;
    expect(recorded(second)).toStrictEqual(recorded(first));
  });

  it("bring-your-own network in a stack: the given ids flow to the outputs", async () => {
    const ids = {
      existingNetworkId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
      existingSubnetId: "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
      existingRouterId: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    };
    const run = await evaluateStack(
      "dev",
      { networkMode: "existing", ...ids },
      { fixtures: { subnets: { [ids.existingSubnetId]: { cidr: "10.20.0.0/22" } } } },
    );
    expect(run.ofType("openstack:networking/network:Network")).toHaveLength(0);
    expect(run.outputs.network).toMatchObject({
      networkId: ids.existingNetworkId,
      subnetId: ids.existingSubnetId,
      routerId: ids.existingRouterId,
    });
  });
});
