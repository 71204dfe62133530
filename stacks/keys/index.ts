/** Every configuration key the program reads, grouped by the layer that uses it. */
import type { ConfigOf } from "../spec";
import { computeKeys } from "./compute";
import { generalKeys } from "./general";
import { networkKeys } from "./network";

export const configKeys = {
  ...generalKeys,
  ...networkKeys,
  ...computeKeys,
};

export type ConfigKeyName = keyof typeof configKeys;
export type ConfigValues = ConfigOf<typeof configKeys>;
