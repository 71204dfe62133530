/**
 * The offline plan's quota summary: what a stack takes from its project, checked for every committed
 * stack against what its configuration asks for (nodes, flavors, load balancers, volumes), and for a
 * stack that uses every optional consumer (worker floating IPs, boot volumes, a keypair, a gateway on
 * a floating IP the project already holds, a flavor of unknown size).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  CLASSIC_M1_FLAVORS,
  type FlavorTable,
  flavorTableFromOpenstackJson,
  type QuotaSummary,
  quantityToGb,
  quotaSummary,
} from "../tools/quota";
import { type Evaluation, evaluateStack, ROOT } from "./harness";

/** The default stacks' quota table in docs/cloud-requirements.md: quota → [dev, staging, prod]. */
function documentedQuotas(): Map<string, string[]> {
  const page = readFileSync(path.join(ROOT, "docs", "cloud-requirements.md"), "utf8");
  const rows = [...page.matchAll(/^\| `([a-z_-]+)` \| (\d+) \| (\d+) \| (\d+) \|$/gm)];
  return new Map(rows.map((row) => [row[1], [row[2], row[3], row[4]]]));
}

/** Sizes unlike the classic m1.* ones, so every vCPU and MiB below comes from the table given. */
const FLAVORS: FlavorTable = {
  sizes: {
    "m1.medium": { vcpus: 3, ramMiB: 5000 },
    "m1.large": { vcpus: 5, ramMiB: 9000 },
    "m1.xlarge": { vcpus: 7, ramMiB: 15000 },
  },
  source: "this test",
  assumed: false,
};

const total = (summary: QuotaSummary, quota: string) => {
  const line = summary.quotas.find((q) => q.quota === quota);
  if (!line) throw new Error(`no quota line ${quota}`);
  return line.total;
};

describe.each(["dev", "staging", "prod"])("the %s stack's quota summary", (stack) => {
  let run: Evaluation;
  let summary: QuotaSummary;
  beforeAll(async () => {
    run = await evaluateStack(stack);
    summary = quotaSummary(run.resources, FLAVORS);
  });

  const pools = () => [
    { count: run.config.controlPlaneCount, flavor: run.config.controlPlaneFlavor },
    ...run.config.workerPools.map((pool) => ({ count: pool.count, flavor: pool.flavor })),
  ];
  const nodes = () => pools().reduce((sum, pool) => sum + pool.count, 0);
  const highlyAvailable = () => run.config.controlPlaneCount > 1;

  it("counts every node, and their vCPUs and RAM by the flavor table", () => {
    expect(total(summary, "instances")).toBe(nodes());
    expect(total(summary, "cores")).toBe(pools().reduce((s, p) => s + p.count * FLAVORS.sizes[p.flavor].vcpus, 0));
    expect(total(summary, "ram")).toBe(pools().reduce((s, p) => s + p.count * FLAVORS.sizes[p.flavor].ramMiB, 0));
    expect(total(summary, "server-groups")).toBe(pools().length);
    expect(total(summary, "server-group-members")).toBe(Math.max(...pools().map((p) => p.count)));
  });

  it("counts the API's floating IP and the ingress gateway's, and the load balancers behind them", () => {
    expect(total(summary, "floating-ips")).toBe(2);
    expect(total(summary, "load_balancer")).toBe(highlyAvailable() ? 2 : 1);
  });

  it("counts a port per node, the router interface, the DHCP port and a VIP per load balancer", () => {
    // The API's VIP is a port of the program's; the gateway's is made by Octavia for OCCM.
    expect(run.ofType("openstack:networking/port:Port")).toHaveLength(nodes() + (highlyAvailable() ? 1 : 0));
    expect(total(summary, "ports")).toBe(nodes() + 1 + 1 + (highlyAvailable() ? 2 : 1));
    expect([total(summary, "networks"), total(summary, "subnets"), total(summary, "routers")]).toEqual([1, 1, 1]);
  });

  it("counts the security groups and every rule, Neutron's two egress rules per group included", () => {
    const groups = highlyAvailable() ? 3 : 2;
    expect(total(summary, "secgroups")).toBe(groups);
    expect(total(summary, "secgroup-rules")).toBe(
      run.ofType("openstack:networking/secGroupRule:SecGroupRule").length + 2 * groups,
    );
  });

  it("counts the volumes of Prometheus and (on Badger) Jaeger at their sizes, and the cloud-provider credential", () => {
    const claims = [
      run.config.prometheusStorageSize,
      ...(run.config.jaegerStorage === "badger" ? [run.config.jaegerStorageSize] : []),
    ];
    expect(total(summary, "volumes")).toBe(claims.length);
    expect(total(summary, "gigabytes")).toBe(claims.reduce((sum, size) => sum + (quantityToGb(size) ?? NaN), 0));
    expect(total(summary, "application-credentials")).toBe(1);
  });

  it("is what docs/cloud-requirements.md tells a team to ask for (update its table when this fails)", () => {
    const column = ["dev", "staging", "prod"].indexOf(stack);
    const planned = quotaSummary(run.resources, CLASSIC_M1_FLAVORS).quotas.map((q) => [q.quota, String(q.total)]);
    const documented = documentedQuotas();
    expect(planned.map(([quota]) => [quota, documented.get(quota)?.[column]])).toEqual(planned);
  });
});

describe("a stack with every optional consumer", () => {
  let summary: QuotaSummary;
  beforeAll(async () => {
    const run = await evaluateStack(
      "dev",
      {
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZvb2Jhcg test",
        controlPlaneBootVolumeSizeGb: 20,
        ingressGatewayFloatingIp: "198.51.100.50",
        prometheusStorageSize: "1500Mi",
        workerPools: [{ name: "edge", count: 2, flavor: "custom.huge", floatingIps: true, bootVolume: { sizeGb: 30 } }],
        // Alertmanager's volume is the chart's default (persistence on, 2Gi): the program sets neither.
        alertmanagerReceiver: { webhook_configs: [{ url: "https://alerts.example.com/hook" }] },
      },
      { secretKeys: ["alertmanagerReceiver"] },
    );
    summary = quotaSummary(run.resources, FLAVORS);
  });

  it("counts worker floating IPs, and none for a gateway on a floating IP the project holds", () => {
    expect(total(summary, "floating-ips")).toBe(1 + 2);
    expect(total(summary, "load_balancer")).toBe(1);
  });

  it("counts boot volumes and the persistent volumes (Alertmanager's at its chart's default), rounded up to whole GB", () => {
    expect(total(summary, "volumes")).toBe(1 + 2 + 1 + 1);
    expect(total(summary, "gigabytes")).toBe(20 + 2 * 30 + 2 + 2);
    expect(total(summary, "key-pairs")).toBe(1);
  });

  it("leaves vCPU and RAM unknown, naming the flavor, rather than guessing", () => {
    expect(total(summary, "cores")).toBeNull();
    expect(total(summary, "ram")).toBeNull();
    expect(summary.quotas.find((q) => q.quota === "cores")?.note).toMatch(/custom\.huge/);
    expect(summary.flavors.uses).toContainEqual({ flavor: "custom.huge", instances: 2 });
  });
});

describe("flavor sizes and storage sizes", () => {
  it("reads the cloud's flavors from `openstack flavor list --long -f json`, and refuses anything else", () => {
    const json = JSON.stringify([
      { ID: "1", Name: "c2.m4", RAM: 4096, Disk: 40, Ephemeral: 0, VCPUs: 2, "Is Public": true },
      { ID: "2", Name: "c4.m8", RAM: 8192, Disk: 80, Ephemeral: 0, VCPUs: 4, "Is Public": true },
    ]);
    expect(flavorTableFromOpenstackJson(json, "flavors.json").sizes).toEqual({
      "c2.m4": { vcpus: 2, ramMiB: 4096 },
      "c4.m8": { vcpus: 4, ramMiB: 8192 },
    });
    expect(() => flavorTableFromOpenstackJson('{"c2.m4": 2}', "flavors.json")).toThrow(/openstack flavor list --long/);
    expect(() => flavorTableFromOpenstackJson('[{"Name": "x"}]', "flavors.json")).toThrow(/VCPUs/);
  });

  it("turns Kubernetes quantities into Cinder's GB (GiB), rounding up", () => {
    expect(["10Gi", "1500Mi", "1G", "100Gi", "1Ti"].map(quantityToGb)).toEqual([10, 2, 1, 100, 1024]);
    expect(quantityToGb("ten")).toBeUndefined();
  });
});
