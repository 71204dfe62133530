/** Which nodes exist, decided before anything is created: names, roles, zones. Pure. */
import { nodeName } from "../../lib/nodeNames";

export type NodeRole = "control-plane" | "worker";

export interface NodeSpec {
  /** Logical and OpenStack name, also the Kubernetes node name (hostname). */
  readonly name: string;
  readonly role: NodeRole;
  readonly pool: string;
  readonly index: number;
  /** The first control-plane node runs `kubeadm init`; every other node joins. */
  readonly initializesCluster: boolean;
  readonly availabilityZone?: string;
}

export interface PoolLayoutInput {
  readonly clusterName: string;
  readonly pool: string;
  readonly role: NodeRole;
  readonly count: number;
  readonly availabilityZones: readonly string[];
  /** Part of worker names once bumped, so a roll creates new nodes beside the old ones. */
  readonly generation: number;
}

export function poolNodes(input: PoolLayoutInput): NodeSpec[] {
  return Array.from({ length: input.count }, (_, index) => {
    const zone =
      input.availabilityZones.length > 0 ? input.availabilityZones[index % input.availabilityZones.length] : undefined;
    return {
      name: nodeName(input.clusterName, input.pool, index, input.generation),
      role: input.role,
      pool: input.pool,
      index,
      initializesCluster: input.role === "control-plane" && index === 0,
      ...(zone ? { availabilityZone: zone } : {}),
    };
  });
}
