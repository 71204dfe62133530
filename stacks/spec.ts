/**
 * How a configuration key is declared: once, here in stacks/, with its Pulumi type, its description,
 * its validation and its per-environment default. Pulumi.yaml and the configuration reference
 * (docs/configuration.md) are generated from these declarations (`npm run gen`), and a test keeps
 * them in step.
 */
import type { z } from "zod";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The types Pulumi.yaml can declare for a project config key (objects are not among them). */
export type PulumiConfigType = "string" | "integer" | "boolean" | "array";

export interface DefaultContext {
  readonly environment: Environment;
  readonly stack: string;
}

export type DefaultValue<T> = T | { readonly perEnvironment: Readonly<Record<Environment, T | undefined>> };

export interface KeySpec<S extends z.ZodType = z.ZodType> {
  readonly type: PulumiConfigType;
  /** A string key whose value is a YAML (or JSON) document: for lists of records, which Pulumi.yaml cannot type. */
  readonly yamlDocument?: boolean;
  readonly description: string;
  readonly schema: S;
  /** Absent: the key is required. A function: derived from the stack (e.g. its name). */
  readonly default?: DefaultValue<z.input<S>> | ((context: DefaultContext) => z.input<S> | undefined);
  /** Absent and no default means unset (optional) rather than required. */
  readonly optional?: boolean;
  /** Secret keys must be set with `pulumi config set --secret`; their values stay Pulumi secrets. */
  readonly secret?: boolean;
  /** Shown in the configuration reference instead of a computed default (e.g. "derived from the stack name"). */
  readonly defaultText?: string;
}

export type KeySpecs = Readonly<Record<string, KeySpec>>;

export type ConfigOf<K extends KeySpecs> = {
  readonly [P in keyof K]: K[P]["optional"] extends true
    ? z.output<K[P]["schema"]> | undefined
    : z.output<K[P]["schema"]>;
};

export function key<S extends z.ZodType>(spec: KeySpec<S> & { optional?: false }): KeySpec<S> & { optional?: false };
export function key<S extends z.ZodType>(spec: KeySpec<S> & { optional: true }): KeySpec<S> & { optional: true };
export function key<S extends z.ZodType>(spec: KeySpec<S>): KeySpec<S> {
  return spec;
}

export function isPerEnvironment<T>(value: unknown): value is { perEnvironment: Record<Environment, T | undefined> } {
  return typeof value === "object" && value !== null && "perEnvironment" in value;
}

/** The default a key takes in a given stack, or undefined when it has none. */
export function defaultFor(spec: KeySpec, context: DefaultContext): unknown {
  const value = spec.default;
  if (typeof value === "function") return value(context);
  if (isPerEnvironment(value)) return value.perEnvironment[context.environment];
  return value;
}
