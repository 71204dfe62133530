/**
 * Which environment a stack is, as the policies see it. Policies run in their own process without the
 * program's configuration, but every resource's URN carries its stack (urn:pulumi:<stack>::<project>::…).
 * A stack named dev, staging or prod is that environment; any other name (e.g. team-a) counts as
 * "unknown" and gets the strict rules, unless the pack's config says otherwise:
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config/dev.json
 * with {"all": {"environment": "dev"}} (or per policy).
 */
import type { PolicyConfigSchema } from "@pulumi/policy";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface EnvironmentConfig {
  readonly environment?: Environment;
}

export const environmentConfigSchema: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: [...ENVIRONMENTS],
      description: "The stack's environment when its name is not dev, staging or prod.",
    },
  },
};

/** The stack name inside a URN: urn:pulumi:<stack>::<project>::<type>::<name>. */
export function stackOfUrn(urn: string): string {
  const match = /^urn:pulumi:([^:]+)::/.exec(urn);
  return match ? match[1] : "";
}

export function environmentOf(urn: string | undefined, config: EnvironmentConfig): Environment | "unknown" {
  if (config.environment) return config.environment;
  const stack = urn ? stackOfUrn(urn) : "";
  // Fully qualified names (org/project/stack) never reach a URN; a plain name does.
  return (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : "unknown";
}

/** Strict rules apply everywhere but dev; a stack of unknown environment is treated as strict. */
export function relaxed(environment: Environment | "unknown"): boolean {
  return environment === "dev";
}
