/**
 * Which nodes the stack has, from its config alone (names, roles, zones): the pools' layout, and
 * what must know every node before any exists (the join token changes with the set of node names).
 */

import { repairKey } from "../../lib/nodeNames";
import type { WorkerPoolConfig } from "../../stacks/keys/compute";
import type { StackConfig } from "../../stacks/load";
import { type NodeSpec, poolNodes } from "../compute/layout";

/** nodeRepairs entries of one pool, by node index. */
function repairsOf(config: StackConfig, pool: string, count: number): Record<number, number> {
  const repairs: Record<number, number> = {};
  for (let index = 0; index < count; index++) {
    const repair = config.nodeRepairs[repairKey(pool, index)];
    if (repair !== undefined) repairs[index] = repair;
  }
  return repairs;
}

export function controlPlaneNodes(config: StackConfig): NodeSpec[] {
  return poolNodes({
    clusterName: config.clusterName,
    pool: "control-plane",
    role: "control-plane",
    count: config.controlPlaneCount,
    availabilityZones: config.availabilityZones,
    generation: 0,
    repairs: repairsOf(config, "control-plane", config.controlPlaneCount),
  });
}

export function workerNodes(config: StackConfig, pool: WorkerPoolConfig): NodeSpec[] {
  return poolNodes({
    clusterName: config.clusterName,
    pool: pool.name,
    role: "worker",
    count: pool.count,
    availabilityZones: pool.availabilityZones.length > 0 ? pool.availabilityZones : config.availabilityZones,
    generation: pool.generation,
    repairs: repairsOf(config, pool.name, pool.count),
  });
}

export function allNodes(config: StackConfig): NodeSpec[] {
  return [...controlPlaneNodes(config), ...config.workerPools.flatMap((pool) => workerNodes(config, pool))];
}
