/** Every configuration key the program reads, grouped by the layer that uses it. */
import type { ConfigOf } from "../spec";
import { clusterKeys } from "./cluster";
import { computeKeys } from "./compute";
import { generalKeys } from "./general";
import { meshKeys } from "./mesh";
import { networkKeys } from "./network";
import { observabilityKeys } from "./observability";

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
