/** Which nodes exist, decided before anything is created: names, roles, zones. Pure. */
import { nodeName } from "../../lib/nodeNames";

export type NodeRole = "control-plane" | "worker";

export interface NodeSpec {
  /** Logical and OpenStack name, also the Kubernetes node name (hostname). */
  readonly name: string;
  readonly role: NodeRole;
  readonly pool: string;
  readonly index: number;
  /** The first control-plane node runs `kubeadm init`; every other node joins (a repaired first node too). */
  readonly initializesCluster: boolean;
  readonly availabilityZone?: string;
  /** A repaired node's predecessor (its name): its etcd member and Node object go around this node's join. */
  readonly replaces?: string;
}

export interface PoolLayoutInput {
  readonly clusterName: string;
  readonly pool: string;
  readonly role: NodeRole;
  readonly count: number;
  readonly availabilityZones: readonly string[];
  /** Part of worker names once bumped, so a roll creates new nodes beside the old ones. */
  readonly generation: number;
  /** Per node index, its repair generation (nodeRepairs): part of its name once above 0. */
  readonly repairs?: Readonly<Record<number, number>>;
}

export function poolNodes(input: PoolLayoutInput): NodeSpec[] {
  return Array.from({ length: input.count }, (_, index) => {
    const zone =
      input.availabilityZones.length > 0 ? input.availabilityZones[index % input.availabilityZones.length] : undefined;
    const repair = input.repairs?.[index] ?? 0;
    const name = (r: number) => nodeName(input.clusterName, input.pool, index, input.generation, r);
    return {
      name: name(repair),
      role: input.role,
      pool: input.pool,
      index,
      // A repair replaces a member of a running cluster: it joins, never initialises.
      initializesCluster: input.role === "control-plane" && index === 0 && repair === 0,
      ...(zone ? { availabilityZone: zone } : {}),
      ...(repair > 0 ? { replaces: name(repair - 1) } : {}),
    };
  });
}
