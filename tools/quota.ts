/**
 * What a stack takes from its OpenStack project's quotas, read off the planned graph: what the
 * program creates, plus what the cloud and the cluster create on its behalf (the router interface,
 * DHCP and load-balancer VIP ports, the default egress rules of each security group, the ingress
 * gateway's load balancer and floating IP, the volumes of persistent volume claims). Pure: the
 * offline plan prints it and writes plan/<stack>/quota.json, to check against `openstack quota show`
 * before the first `pulumi up`.
 */
import { meshCharts } from "../lib/versions";

/** The fields of a planned resource the summary reads. */
export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface FlavorSize {
  readonly vcpus: number;
  readonly ramMiB: number;
}

export interface FlavorTable {
  readonly sizes: Readonly<Record<string, FlavorSize>>;
  /** Said in the summary: where the sizes come from. */
  readonly source: string;
  /** True when the sizes are a guess rather than the cloud's own. */
  readonly assumed: boolean;
}

/**
 * Flavor sizes are facts of the cloud, not of the stack, and nothing can look them up offline. Unless
 * the plan is given the cloud's own table (`--flavors`, the JSON of `openstack flavor list --long -f
 * json`), it assumes the classic m1.* sizes: what DevStack creates (devstack lib/nova,
 * create_flavors), once Nova's defaults. Many clouds size m1.* differently or have none, so the
 * summary names the assumption and counts instances per flavor in any case.
 */
export const CLASSIC_M1_FLAVORS: FlavorTable = {
  sizes: {
    "m1.tiny": { vcpus: 1, ramMiB: 512 },
    "m1.small": { vcpus: 1, ramMiB: 2048 },
    "m1.medium": { vcpus: 2, ramMiB: 4096 },
    "m1.large": { vcpus: 4, ramMiB: 8192 },
    "m1.xlarge": { vcpus: 8, ramMiB: 16384 },
  },
  source: "assumed: the classic m1.* sizes (DevStack's); give your cloud's with --flavors",
  assumed: true,
};

/** The cloud's own flavor table, from the JSON of `openstack flavor list --long -f json`. */
export function flavorTableFromOpenstackJson(json: string, source: string): FlavorTable {
  const expected = `${source}: expected the JSON of \`openstack flavor list --long -f json\` (a list of {Name, VCPUs, RAM})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`${expected}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(expected);
  const sizes: Record<string, FlavorSize> = {};
  for (const entry of parsed as Record<string, unknown>[]) {
    const { Name: name, VCPUs: vcpus, RAM: ramMiB } = entry ?? {};
    if (typeof name !== "string" || typeof vcpus !== "number" || typeof ramMiB !== "number") {
      throw new Error(`${expected}; got ${JSON.stringify(entry)}`);
    }
    sizes[name] = { vcpus, ramMiB };
  }
  return { sizes, source: `from ${source}`, assumed: false };
}

export type QuotaService = "compute" | "network" | "load-balancer" | "volume" | "identity";

/** A share of a quota that the program does not create itself but causes. */
export interface Addition {
  readonly count: number;
  /** The cloud (Neutron, Octavia) makes it for a resource of the program; the cluster makes it at run time. */
  readonly by: "cloud" | "cluster";
  readonly what: string;
}

export interface QuotaLine {
  readonly service: QuotaService;
  /** As `openstack quota show` names it (`openstack loadbalancer quota show` for load-balancer). */
  readonly quota: string;
  readonly unit?: "MiB" | "GB";
  /** Made by the program's own resources; null when a flavor's size is unknown. */
  readonly planned: number | null;
  readonly added: readonly Addition[];
  /** planned plus every addition; null when planned is. */
  readonly total: number | null;
  readonly note?: string;
}

export interface FlavorUse {
  readonly flavor: string;
  readonly instances: number;
  /** Per instance; absent when the table does not know the flavor. */
  readonly size?: FlavorSize;
}

export interface QuotaSummary {
  readonly flavors: { readonly source: string; readonly assumed: boolean; readonly uses: readonly FlavorUse[] };
  readonly quotas: readonly QuotaLine[];
}

const TYPES = {
  instance: "openstack:compute/instance:Instance",
  serverGroup: "openstack:compute/serverGroup:ServerGroup",
  keypair: "openstack:compute/keypair:Keypair",
  network: "openstack:networking/network:Network",
  subnet: "openstack:networking/subnet:Subnet",
  router: "openstack:networking/router:Router",
  routerInterface: "openstack:networking/routerInterface:RouterInterface",
  port: "openstack:networking/port:Port",
  floatingIp: "openstack:networking/floatingIp:FloatingIp",
  secGroup: "openstack:networking/secGroup:SecGroup",
  secGroupRule: "openstack:networking/secGroupRule:SecGroupRule",
  loadBalancer: "openstack:loadbalancer/loadBalancer:LoadBalancer",
  listener: "openstack:loadbalancer/listener:Listener",
  pool: "openstack:loadbalancer/pool:Pool",
  member: "openstack:loadbalancer/member:Member",
  monitor: "openstack:loadbalancer/monitor:Monitor",
  volume: "openstack:blockstorage/volume:Volume",
  applicationCredential: "openstack:identity/applicationCredential:ApplicationCredential",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  volumeClaim: "kubernetes:core/v1:PersistentVolumeClaim",
} as const;

/** Neutron gives every new security group two egress rules (IPv4 and IPv6), counted as rules. */
const EGRESS_RULES_PER_GROUP = 2;

type Values = Readonly<Record<string, unknown>>;
const record = (value: unknown): Values =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Values) : {};
const list = (value: unknown): Values[] => (Array.isArray(value) ? value.map(record) : []);

/** The chart's name, whether `chart` is a plain name or a full oci:// reference. */
const chartOf = (release: PlannedResource) => String(release.inputs.chart ?? "").replace(/^.*\//, "");

const BYTES: Readonly<Record<string, number>> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** A Kubernetes storage quantity in Cinder's unit (GiB, which Cinder calls GB), rounded up as Cinder CSI provisions. */
export function quantityToGb(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!match) return undefined;
  return Math.max(1, Math.ceil((Number(match[1]) * BYTES[match[2] ?? ""]) / 2 ** 30));
}

/**
 * Where the charts the program installs claim a persistent volume, and what the chart does when the
 * program leaves a value out (its defaults as in ../shared/charts: prometheus 29.27.0 with its
 * alertmanager block, grafana 12.11.1). `component`: the switch of the part that owns the volume.
 */
interface ChartVolume {
  readonly chart: string;
  readonly label: string;
  readonly component?: { readonly path: readonly string[]; readonly byDefault: boolean };
  readonly claim: readonly string[];
  readonly byDefault: { readonly enabled: boolean; readonly size: string };
}

const CHART_VOLUMES: readonly ChartVolume[] = [
  {
    chart: meshCharts.prometheus.chart,
    label: "prometheus",
    claim: ["server", "persistentVolume"],
    byDefault: { enabled: true, size: "8Gi" },
  },
  {
    chart: meshCharts.prometheus.chart,
    label: "alertmanager",
    component: { path: ["alertmanager", "enabled"], byDefault: true },
    claim: ["alertmanager", "persistence"],
    byDefault: { enabled: true, size: "2Gi" },
  },
  {
    chart: meshCharts.grafana.chart,
    label: "grafana",
    claim: ["persistence"],
    byDefault: { enabled: false, size: "10Gi" },
  },
];

/**
 * The Cinder volumes the cluster will provision (Cinder CSI, the default StorageClass): claims the
 * program creates itself, and those its charts ask for.
 */
function claimedVolumes(resources: readonly PlannedResource[]): { claim: string; gb: number }[] {
  const ownClaims = resources
    .filter((r) => r.type === TYPES.volumeClaim)
    .map((claim) => {
      const size = record(record(record(claim.inputs.spec).resources).requests).storage;
      return { claim: claim.name, gb: (typeof size === "string" ? quantityToGb(size) : undefined) ?? 0 };
    });
  const releases = resources.filter((r) => r.type === TYPES.helmRelease);
  return [...ownClaims, ...chartClaims(releases)];
}

function chartClaims(releases: readonly PlannedResource[]): { claim: string; gb: number }[] {
  const valueAt = (values: Values, path: readonly string[]): unknown =>
    path.reduce<unknown>((node, key) => record(node)[key], values);
  return releases.flatMap((release) => {
    const values = record(release.inputs.values);
    return CHART_VOLUMES.filter((volume) => volume.chart === chartOf(release)).flatMap((volume) => {
      const on = volume.component ? (valueAt(values, volume.component.path) ?? volume.component.byDefault) : true;
      const claim = record(valueAt(values, volume.claim));
      if (on !== true || (claim.enabled ?? volume.byDefault.enabled) !== true) return [];
      const size = typeof claim.size === "string" ? claim.size : volume.byDefault.size;
      return [{ claim: `${release.name} (${volume.label})`, gb: quantityToGb(size) ?? 0 }];
    });
  });
}

/**
 * The gateway chart's Service of type LoadBalancer: the cloud-controller-manager makes an Octavia
 * load balancer (with its VIP port) for it, and a floating IP unless the Service names one the
 * project already holds (`loadBalancerIP`).
 */
function clusterLoadBalancers(releases: readonly PlannedResource[]): { release: string; ownFloatingIp: boolean }[] {
  return releases
    .filter((release) => chartOf(release) === meshCharts.gateway.chart)
    .flatMap((release) => {
      const service = record(record(release.inputs.values).service);
      if (service.type !== "LoadBalancer") return [];
      return [{ release: release.name, ownFloatingIp: typeof service.loadBalancerIP === "string" }];
    });
}

/** Boot volumes Nova creates from an image for instances that boot from Cinder. */
function bootVolumes(instances: readonly PlannedResource[]): { count: number; gb: number } {
  const devices = instances.flatMap((instance) =>
    list(instance.inputs.blockDevices).filter((d) => d.destinationType === "volume" && d.sourceType !== "volume"),
  );
  return {
    count: devices.length,
    gb: devices.reduce((sum, d) => sum + (typeof d.volumeSize === "number" ? d.volumeSize : 0), 0),
  };
}

function flavorUses(instances: readonly PlannedResource[], table: FlavorTable): FlavorUse[] {
  const counts = new Map<string, number>();
  for (const instance of instances) {
    const flavor = String(instance.inputs.flavorName ?? instance.inputs.flavorId ?? "(no flavor)");
    counts.set(flavor, (counts.get(flavor) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([flavor, instances]) => {
      const size = table.sizes[flavor];
      return { flavor, instances, ...(size ? { size } : {}) };
    });
}

/** Nova's server-group-members quota holds per group: the largest group is what must fit. */
function largestServerGroup(instances: readonly PlannedResource[]): number {
  const members = new Map<string, number>();
  for (const instance of instances) {
    const group = list(instance.inputs.schedulerHints).find((hint) => typeof hint.group === "string")?.group;
    if (typeof group === "string") members.set(group, (members.get(group) ?? 0) + 1);
  }
  return Math.max(0, ...members.values());
}

function quota(
  service: QuotaService,
  name: string,
  planned: number | null,
  added: readonly Addition[] = [],
  extra: { unit?: QuotaLine["unit"]; note?: string } = {},
): QuotaLine {
  const present = added.filter((a) => a.count > 0);
  const total = planned === null ? null : planned + present.reduce((sum, a) => sum + a.count, 0);
  return {
    service,
    quota: name,
    ...(extra.unit ? { unit: extra.unit } : {}),
    planned,
    added: present,
    total,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

export function quotaSummary(
  resources: readonly PlannedResource[],
  flavors: FlavorTable = CLASSIC_M1_FLAVORS,
): QuotaSummary {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const count = (type: string) => ofType(type).length;
  const instances = ofType(TYPES.instance);
  const releases = ofType(TYPES.helmRelease);

  const uses = flavorUses(instances, flavors);
  const known = uses.every((use) => use.size);
  const perInstance = (pick: (size: FlavorSize) => number) =>
    known ? uses.reduce((sum, use) => sum + use.instances * pick(use.size as FlavorSize), 0) : null;
  const unknownFlavors = uses.filter((use) => !use.size).map((use) => use.flavor);
  const sizeNote = unknownFlavors.length
    ? `size of ${unknownFlavors.join(", ")} unknown: give it with --flavors`
    : flavors.assumed
      ? "flavor sizes assumed (classic m1.*)"
      : undefined;

  const networksWithDhcp = new Set(
    ofType(TYPES.subnet)
      .filter((subnet) => subnet.inputs.enableDhcp !== false)
      .map((subnet) => String(subnet.inputs.networkId)),
  ).size;
  const programLoadBalancers = count(TYPES.loadBalancer);
  // A load balancer given a VIP port of the program's (vipPortId) has it counted among the ports already.
  const octaviaMadeVips = ofType(TYPES.loadBalancer).filter((lb) => !lb.inputs.vipPortId).length;
  const clusterLbs = clusterLoadBalancers(releases);
  const gateways = clusterLbs.map((lb) => lb.release).join(", ");
  const boot = bootVolumes(instances);
  const claims = claimedVolumes(resources);
  const volumes = ofType(TYPES.volume);
  const groups = count(TYPES.secGroup);

  return {
    flavors: { source: flavors.source, assumed: flavors.assumed, uses },
    quotas: [
      quota("compute", "instances", instances.length),
      quota(
        "compute",
        "cores",
        perInstance((s) => s.vcpus),
        [],
        sizeNote ? { note: sizeNote } : {},
      ),
      quota(
        "compute",
        "ram",
        perInstance((s) => s.ramMiB),
        [],
        { unit: "MiB", ...(sizeNote ? { note: sizeNote } : {}) },
      ),
      quota("compute", "server-groups", count(TYPES.serverGroup)),
      quota("compute", "server-group-members", largestServerGroup(instances), [], { note: "the largest group" }),
      quota("compute", "key-pairs", count(TYPES.keypair)),
      quota("network", "networks", count(TYPES.network)),
      quota("network", "subnets", count(TYPES.subnet)),
      quota("network", "routers", count(TYPES.router)),
      quota("network", "ports", count(TYPES.port), [
        { count: count(TYPES.routerInterface), by: "cloud", what: "router interface" },
        { count: networksWithDhcp, by: "cloud", what: "DHCP (or OVN metadata) port" },
        { count: octaviaMadeVips, by: "cloud", what: "API load balancer's VIP" },
        { count: clusterLbs.length, by: "cluster", what: `VIP of ${gateways}'s load balancer` },
      ]),
      quota("network", "floating-ips", count(TYPES.floatingIp), [
        {
          count: clusterLbs.filter((lb) => !lb.ownFloatingIp).length,
          by: "cluster",
          what: `${gateways}'s load balancer`,
        },
      ]),
      quota("network", "secgroups", groups),
      quota("network", "secgroup-rules", count(TYPES.secGroupRule), [
        { count: EGRESS_RULES_PER_GROUP * groups, by: "cloud", what: "egress rules Neutron adds to each new group" },
      ]),
      quota("load-balancer", "load_balancer", programLoadBalancers, [
        { count: clusterLbs.length, by: "cluster", what: gateways },
      ]),
      quota(
        "load-balancer",
        "listener",
        count(TYPES.listener),
        [],
        clusterLbs.length
          ? {
              note: "plus, per cluster load balancer, a listener, pool and monitor per Service port and a member per node",
            }
          : {},
      ),
      quota("load-balancer", "pool", count(TYPES.pool)),
      quota("load-balancer", "member", count(TYPES.member)),
      quota("load-balancer", "health_monitor", count(TYPES.monitor)),
      quota("volume", "volumes", volumes.length + boot.count, [
        {
          count: claims.length,
          by: "cluster",
          what: `persistent volumes: ${claims.map((c) => c.claim).join(", ")}`,
        },
      ]),
      quota(
        "volume",
        "gigabytes",
        volumes.reduce((sum, v) => sum + (typeof v.inputs.size === "number" ? v.inputs.size : 0), 0) + boot.gb,
        [{ count: claims.reduce((sum, c) => sum + c.gb, 0), by: "cluster", what: "persistent volumes" }],
        { unit: "GB" },
      ),
      quota("identity", "application-credentials", count(TYPES.applicationCredential), [], {
        note: "Keystone has no quota for them by default",
      }),
    ],
  };
}

/** The summary as the plan prints it: one line per quota, where every addition comes from. */
export function formatQuotaSummary(summary: QuotaSummary): string[] {
  const width = Math.max(...summary.quotas.map((q) => q.quota.length));
  const lines = summary.quotas.map((q) => {
    const total = q.total === null ? "?" : `${q.total}`;
    const parts = q.added.length
      ? [`${q.planned ?? "?"} planned`, ...q.added.map((a) => `${a.count} ${a.what} (by the ${a.by})`)].join(" + ")
      : "";
    const detail = [q.unit, parts, q.note].filter(Boolean).join("; ");
    return `  ${q.service.padEnd(13)} ${q.quota.padEnd(width)}  ${total.padStart(6)}${detail ? `  ${detail}` : ""}`;
  });
  const uses = summary.flavors.uses
    .map(
      (u) =>
        `${u.instances} × ${u.flavor}${u.size ? ` (${u.size.vcpus} vCPU, ${u.size.ramMiB} MiB)` : " (size unknown)"}`,
    )
    .join(", ");
  return [...lines, `  instances by flavor: ${uses || "none"}; sizes ${summary.flavors.source}`];
}
