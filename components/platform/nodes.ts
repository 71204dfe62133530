/**
 * Which nodes the stack has, from its config alone (names, roles, zones): the pools' layout, and
 * what must know every node before any exists (the join token changes with the set of node names).
 */

import type { WorkerPoolConfig } from "../../stacks/keys/compute";
import type { StackConfig } from "../../stacks/load";
import { type NodeSpec, poolNodes } from "../compute/layout";

export function controlPlaneNodes(config: StackConfig): NodeSpec[] {
  return poolNodes({
    clusterName: config.clusterName,
    pool: "control-plane",
    role: "control-plane",
    count: config.controlPlaneCount,
    availabilityZones: config.availabilityZones,
    generation: 0,
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
  });
}

export function allNodes(config: StackConfig): NodeSpec[] {
  return [...controlPlaneNodes(config), ...config.workerPools.flatMap((pool) => workerNodes(config, pool))];
}
