/** Every configuration key the program reads, grouped by the layer that uses it. */
import type { ConfigOf } from "../spec";
import { clusterKeys } from "./cluster";
import { computeKeys } from "./compute";
import { generalKeys } from "./general";
import { meshKeys } from "./mesh";
import { networkKeys } from "./network";
import { observabilityKeys } from "./observability";

/**
 * The keys by area, in the order the configuration reference (docs/configuration.md) lists them. A key
 * file of a new area goes into both this list and configKeys (a test fails when one is missing here).
 */
export const keyAreas = [
  { title: "General", keys: generalKeys },
  { title: "Network", keys: networkKeys },
  { title: "Nodes", keys: computeKeys },
  { title: "Cluster", keys: clusterKeys },
  { title: "Istio mesh", keys: meshKeys },
  { title: "Observability", keys: observabilityKeys },
] as const;

export const configKeys = {
  ...generalKeys,
  ...networkKeys,
  ...computeKeys,
  ...clusterKeys,
  ...meshKeys,
  ...observabilityKeys,
};

export type ConfigKeyName = keyof typeof configKeys;
export type ConfigValues = ConfigOf<typeof configKeys>;
