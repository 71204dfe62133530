/**
 * The critical path of a stack's `pulumi up`: the graph the offline engine recorded (tools/mocks),
 * weighted with the typical latencies of tools/latency.ts, scheduled the way the engine runs it.
 *
 * When a resource starts: the Node SDK sends a registration only once every resource in its
 * `dependencies` (explicit dependsOn and input dependencies, components expanded to their
 * children), its parent and its provider exist, and the engine creates it at once (no parallelism
 * limit is modelled: a stack has about a hundred resources). Two things the graph cannot show are
 * added: the first control-plane node bootstraps the API server by itself once it is ACTIVE (the
 * readiness gate cannot finish before), and Octavia changes one load balancer at a time (its
 * listener, pool, monitor and members are created one after the other).
 */
import { GATE_AFTER_API, type Latency, latencyOf, NODE_BOOTSTRAP } from "./latency";
import type { RecordedResource } from "./mocks";

export interface Step {
  readonly key: string;
  /** "type name", or a description for what happens on a node by itself. */
  readonly label: string;
  readonly seconds: number;
  readonly basis: string;
  readonly start: number;
  readonly finish: number;
  /** What it waited for last: a dependency, or the previous operation on its load balancer. */
  readonly after?: string;
}

export interface CriticalPath {
  /** Wall-clock seconds of the whole `pulumi up`: the latest finish. */
  readonly seconds: number;
  /** Every create one after the other (`pulumi up --parallel 1`). */
  readonly serialSeconds: number;
  /** The chain that sets the total, first to last, components left out. */
  readonly chain: readonly Step[];
  readonly steps: ReadonlyMap<string, Step>;
  /** Types or charts the latency table has no figure for (counted with its default). */
  readonly unknown: readonly string[];
}

interface Node {
  readonly key: string;
  readonly label: string;
  readonly latency: Latency;
  readonly waitsFor: readonly string[];
  /** Operations on the same load balancer run one at a time. */
  readonly lock?: string;
  readonly component: boolean;
}

const INSTANCE = "openstack:compute/instance:Instance";
const LOAD_BALANCER = "openstack:loadbalancer/loadBalancer:LoadBalancer";
const MEMBER = "openstack:loadbalancer/member:Member";

/** The readiness gate: the local command that waits for the API server (readyz-wait.sh, bounded by TIMEOUT_SECONDS). */
export function isApiGate(resource: RecordedResource): boolean {
  const environment = resource.inputs.environment as Record<string, unknown> | undefined;
  return (
    resource.type === "command:local:Command" &&
    environment?.API_ENDPOINT !== undefined &&
    environment?.TIMEOUT_SECONDS !== undefined
  );
}

/** The node that runs kubeadm init: its user data carries init.yaml. */
export function isInitNode(resource: RecordedResource): boolean {
  return resource.type === INSTANCE && String(resource.inputs.userData ?? "").includes("/init.yaml");
}

/** The gate's own time once the API answers: longer behind a load balancer, whose health monitor must see a node first. */
export function gateLatency(gate: RecordedResource, byKey: ReadonlyMap<string, RecordedResource>): Latency {
  const loadBalanced = gate.dependencies.some((key) => byKey.get(key)?.type === MEMBER);
  return loadBalanced ? GATE_AFTER_API.loadBalanced : GATE_AFTER_API.direct;
}

export const bootstrapKey = (instance: string) => `bootstrap::${instance}`;

function buildNodes(resources: readonly RecordedResource[]): { nodes: Map<string, Node>; unknown: string[] } {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const unknown = new Set<string>();
  const loadBalancerOf = (resource: RecordedResource): string | undefined => {
    const seen = new Set<string>();
    const queue = [...resource.dependencies];
    while (queue.length > 0) {
      const key = queue.shift() as string;
      if (seen.has(key)) continue;
      seen.add(key);
      const dependency = byKey.get(key);
      if (dependency?.type === LOAD_BALANCER) return key;
      if (dependency) queue.push(...dependency.dependencies);
    }
    return undefined;
  };
  const initNode = resources.find(isInitNode);
  const nodes = new Map<string, Node>();
  for (const resource of resources) {
    let latency: Latency = latencyOf(resource);
    const extra: string[] = [];
    if (!isApiGate(resource) && !latencyOf(resource).known) {
      unknown.add(resource.inputs.chart !== undefined ? `chart ${resource.inputs.chart}` : resource.type);
    }
    if (isApiGate(resource)) {
      latency = gateLatency(resource, byKey);
      if (initNode) extra.push(bootstrapKey(initNode.key));
    }
    const lock =
      resource.type.startsWith("openstack:loadbalancer/") && resource.type !== LOAD_BALANCER
        ? loadBalancerOf(resource)
        : undefined;
    nodes.set(resource.key, {
      key: resource.key,
      label: `${resource.type} ${resource.name}`,
      latency,
      waitsFor: [
        ...new Set([
          ...resource.dependencies,
          ...resource.providers,
          ...(resource.parent ? [resource.parent] : []),
          ...extra,
        ]),
      ].filter((key) => key !== resource.key),
      ...(lock ? { lock } : {}),
      component: !resource.custom && !resource.remote,
    });
  }
  if (initNode) {
    nodes.set(bootstrapKey(initNode.key), {
      key: bootstrapKey(initNode.key),
      label: `${initNode.name} bootstraps the API server`,
      latency: NODE_BOOTSTRAP,
      waitsFor: [initNode.key],
      component: false,
    });
  }
  return { nodes, unknown: [...unknown].sort() };
}

export function criticalPath(resources: readonly RecordedResource[]): CriticalPath {
  const { nodes, unknown } = buildNodes(resources);
  const steps = new Map<string, Step>();
  const lockFree = new Map<string, { at: number; by: string }>();
  const pending = new Set(nodes.keys());
  while (pending.size > 0) {
    // Of the nodes whose prerequisites are all done, the one that became ready first.
    let next: { node: Node; ready: number; last?: string } | undefined;
    for (const key of pending) {
      const node = nodes.get(key) as Node;
      const waits = node.waitsFor.filter((k) => nodes.has(k));
      if (!waits.every((k) => steps.has(k))) continue;
      let ready = 0;
      let last: string | undefined;
      for (const k of waits) {
        const finish = (steps.get(k) as Step).finish;
        if (finish > ready || last === undefined) {
          ready = Math.max(ready, finish);
          last = k;
        }
      }
      if (!next || ready < next.ready || (ready === next.ready && key < next.node.key)) {
        next = { node, ready, ...(last ? { last } : {}) };
      }
    }
    if (!next) throw new Error(`dependency cycle among ${[...pending].join(", ")}`);
    const { node, ready, last } = next;
    const held = node.lock ? lockFree.get(node.lock) : undefined;
    const start = held && held.at > ready ? held.at : ready;
    const after = held && held.at > ready ? held.by : last;
    const finish = start + node.latency.seconds;
    if (node.lock) lockFree.set(node.lock, { at: finish, by: node.key });
    steps.set(node.key, {
      key: node.key,
      label: node.label,
      seconds: node.latency.seconds,
      basis: node.latency.basis,
      start,
      finish,
      ...(after ? { after } : {}),
    });
    pending.delete(node.key);
  }

  let end: Step | undefined;
  for (const step of steps.values()) if (!end || step.finish > end.finish) end = step;
  const chain: Step[] = [];
  for (let step = end; step; step = step.after ? steps.get(step.after) : undefined) {
    if (!(nodes.get(step.key) as Node).component) chain.unshift(step);
  }
  const serialSeconds = resources.reduce((sum, r) => sum + (steps.get(r.key)?.seconds ?? 0), 0);
  return { seconds: end?.finish ?? 0, serialSeconds, chain, steps, unknown };
}

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const rest = Math.round(seconds - m * 60);
  return m > 0 ? `${m}m${String(rest).padStart(2, "0")}s` : `${rest}s`;
}
