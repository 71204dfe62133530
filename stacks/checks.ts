/**
 * Rules that span several keys (the per-key schemas cannot see each other). Each rule reads only
 * keys that passed their own validation, so one typo does not cascade into a list of false alarms.
 */
import {
  contains,
  coverEverything,
  formatCidr,
  type Ipv4Cidr,
  isWorldOpen,
  lastAddress,
  overlaps,
  parseCidr,
  parseIpv4,
  size,
} from "../lib/cidr";
import { NODE_NAME_MAX_LENGTH, nodeName, repairKey } from "../lib/nodeNames";
import type { ConfigProblem } from "./errors";
import type { ConfigValues } from "./keys";
import { meshRules } from "./meshChecks";

export type PartialConfig = Partial<ConfigValues>;
type Rule = (config: PartialConfig) => ConfigProblem[];

const RESERVED_LOW_ADDRESSES = 10;

const cidrOverlaps: Rule = (config) => {
  const named: [string, string | undefined][] = [
    ["nodeCidr", config.nodeCidr],
    ["podCidr", config.podCidr],
    ["serviceCidr", config.serviceCidr],
  ];
  const parsed = named.flatMap(([name, text]) => {
    const block = text === undefined ? undefined : parseCidr(text);
    return block ? [{ name, text: text as string, block }] : [];
  });
  const problems: ConfigProblem[] = [];
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const [a, b] = [parsed[i], parsed[j]];
      if (overlaps(a.block, b.block)) {
        problems.push({
          path: b.name,
          given: b.text,
          expected: `must not overlap ${a.name} (${a.text}): nodes, pods and services need disjoint ranges`,
        });
      }
    }
  }
  return problems;
};

function nodeCount(config: PartialConfig): number {
  const workers = (config.workerPools ?? []).reduce((sum, pool) => sum + pool.count, 0);
  return (config.controlPlaneCount ?? 0) + workers;
}

const nodeSubnetCapacity: Rule = (config) => {
  const block = config.nodeCidr ? parseCidr(config.nodeCidr) : undefined;
  if (!block) return [];
  // network, gateway, broadcast, the reserved low addresses, the API VIP, plus one spare per node for rolls.
  const needed = RESERVED_LOW_ADDRESSES + 3 + 2 * nodeCount(config);
  return size(block) >= needed
    ? []
    : [
        {
          path: "nodeCidr",
          given: config.nodeCidr,
          expected: `too small for ${nodeCount(config)} nodes (needs at least ${needed} addresses to roll them); use a larger block such as /22`,
        },
      ];
};

function poolBoundary(block: Ipv4Cidr, config: PartialConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check = (path: "allocationPoolStart" | "allocationPoolEnd"): number | undefined => {
    const text = config[path];
    if (text === undefined) return undefined;
    const address = parseIpv4(text);
    if (address === undefined) return undefined;
    if (!contains(block, address) || address === block.network || address === lastAddress(block)) {
      problems.push({ path, given: text, expected: `must be a usable address inside nodeCidr ${formatCidr(block)}` });
      return undefined;
    }
    return address;
  };
  const start = check("allocationPoolStart");
  const end = check("allocationPoolEnd");
  if (start !== undefined && end !== undefined && start > end) {
    problems.push({
      path: "allocationPoolEnd",
      given: config.allocationPoolEnd,
      expected: "must not come before allocationPoolStart",
    });
  }
  return problems;
}

const allocationPool: Rule = (config) => {
  const block = config.nodeCidr ? parseCidr(config.nodeCidr) : undefined;
  return block ? poolBoundary(block, config) : [];
};

const networkMode: Rule = (config) => {
  const existingKeys = ["existingNetworkId", "existingSubnetId", "existingRouterId"] as const;
  if (config.networkMode === "existing") {
    // The router too: the API's floating IP needs it, and its gateway address is admitted to the API.
    const missing: ConfigProblem[] = existingKeys
      .filter((name) => config[name] === undefined)
      .map((name) => ({ path: name, expected: "required when networkMode is existing" }));
    return config.networkMtu === undefined
      ? missing
      : [
          ...missing,
          {
            path: "networkMtu",
            given: config.networkMtu,
            expected:
              "only used when networkMode is create: an existing network's MTU is its own (read from Neutron, the pod network's is derived from it); remove it",
          },
        ];
  }
  if (config.networkMode === "create") {
    return existingKeys
      .filter((name) => config[name] !== undefined)
      .map((name) => ({
        path: name,
        given: config[name],
        expected: "only used when networkMode is existing; remove it or set networkMode: existing",
      }));
  }
  return [];
};

const worldOpenAdmin: Rule = (config) => {
  if (config.environment === undefined || config.environment === "dev" || config.allowWorldOpenAdminCidr) return [];
  const cidrs = config.adminCidrs ?? [];
  const alone = cidrs.flatMap((text, index) =>
    isWorldOpen(text)
      ? [
          {
            path: `adminCidrs[${index}]`,
            given: text,
            expected: `opens the Kubernetes API and SSH to the whole internet, refused in ${config.environment}; list your office, VPN or bastion CIDRs (or set allowWorldOpenAdminCidr: true to accept the risk)`,
          },
        ]
      : [],
  );
  if (alone.length > 0) return alone;
  const blocks = cidrs.flatMap((text) => parseCidr(text) ?? []);
  return coverEverything(blocks)
    ? [
        {
          path: "adminCidrs",
          given: cidrs,
          expected: `together cover every IPv4 address, which opens the Kubernetes API and SSH to the whole internet, refused in ${config.environment}; list your office, VPN or bastion CIDRs (or set allowWorldOpenAdminCidr: true to accept the risk)`,
        },
      ]
    : [];
};

/** Node names become hostnames and the kubernetes.io/hostname label: at most 63 characters. */
const nodeNameLength: Rule = (config) => {
  const { clusterName } = config;
  if (clusterName === undefined) return [];
  const tooLong = (name: string) => name.length > NODE_NAME_MAX_LENGTH;
  const explain = (name: string) =>
    `makes node names such as ${name} (${name.length} characters), over the ${NODE_NAME_MAX_LENGTH} a hostname and the kubernetes.io/hostname label allow; shorten clusterName (${clusterName.length} characters) or this name`;
  const problems: ConfigProblem[] = [];
  const repair = Math.max(0, ...Object.values(config.nodeRepairs ?? {}));
  const controlPlane = nodeName(
    clusterName,
    "control-plane",
    Math.max(0, (config.controlPlaneCount ?? 1) - 1),
    0,
    repair,
  );
  if (tooLong(controlPlane))
    problems.push({ path: "clusterName", given: clusterName, expected: explain(controlPlane) });
  (config.workerPools ?? []).forEach((pool, index) => {
    const longest = nodeName(clusterName, pool.name, Math.max(0, pool.count - 1), pool.generation, repair);
    if (tooLong(longest))
      problems.push({ path: `workerPools[${index}].name`, given: pool.name, expected: explain(longest) });
  });
  return problems;
};

/** What a cloud without Octavia, or with its OVN provider, cannot do (cloud-provider-openstack's docs). */
const loadBalancerFeatures: Rule = (config) => {
  const provider = config.loadBalancerProvider;
  const problems: ConfigProblem[] = [];
  if (provider === "none") {
    if (config.controlPlaneCount !== undefined && config.controlPlaneCount > 1) {
      problems.push({
        path: "controlPlaneCount",
        given: config.controlPlaneCount,
        expected:
          "more than one control-plane node puts the API behind a load balancer, which loadBalancerProvider none cannot give; use 1 (the API on a floating IP)",
      });
    }
    if (config.ingressGatewayFloatingIp !== undefined) {
      problems.push({
        path: "ingressGatewayFloatingIp",
        given: config.ingressGatewayFloatingIp,
        expected:
          "is the gateway load balancer's address; with loadBalancerProvider none there is none (the gateway is on the workers' NodePorts)",
      });
    }
  }
  if ((provider === "none" || provider === "ovn") && config.ingressGatewayProxyProtocol) {
    problems.push({
      path: "ingressGatewayProxyProtocol",
      given: true,
      expected: `needs an Octavia provider that speaks PROXY (amphora); ${provider === "ovn" ? "the OVN provider does not (cloud-provider-openstack: not supported with lb-provider=ovn), and delivers client addresses as they are" : "there is no load balancer"}`,
    });
  }
  return problems;
};

/** Every nodeRepairs entry names a node the stack has: control-plane-<i> or <worker pool>-<i>. */
const nodeRepairTargets: Rule = (config) => {
  const { nodeRepairs, controlPlaneCount, workerPools } = config;
  if (nodeRepairs === undefined || controlPlaneCount === undefined || workerPools === undefined) return [];
  const pools = [{ name: "control-plane", count: controlPlaneCount }, ...workerPools];
  const known = new Set(pools.flatMap((p) => Array.from({ length: p.count }, (_, i) => repairKey(p.name, i))));
  const examples = pools
    .map((p) => (p.count > 0 ? `${repairKey(p.name, 0)}…${repairKey(p.name, p.count - 1)}` : ""))
    .filter(Boolean);
  return Object.keys(nodeRepairs)
    .filter((key) => !known.has(key))
    .map((key) => ({
      path: `nodeRepairs.${key}`,
      given: key,
      expected: `a node of this stack, <pool>-<index>: ${examples.join(", ")}`,
    }));
};

export const crossKeyRules: readonly Rule[] = [
  cidrOverlaps,
  nodeSubnetCapacity,
  allocationPool,
  networkMode,
  worldOpenAdmin,
  nodeNameLength,
  nodeRepairTargets,
  loadBalancerFeatures,
  ...meshRules,
];
