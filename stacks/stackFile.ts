/** Reads a Pulumi.<stack>.yaml the way the engine hands it to the program: full keys, string values. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface StackFileConfig {
  readonly values: Record<string, string>;
  readonly secretKeys: string[];
}

/** Stands in for a `secure:` value, which cannot be decrypted without the stack's secrets provider. */
export const UNDECRYPTED_SECRET = "[secret: set in the stack, not decrypted offline]";

export function encodeConfigValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function readStackFile(
  projectDir: string,
  stack: string,
  file = path.join(projectDir, `Pulumi.${stack}.yaml`),
): StackFileConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(
      `no stack file ${file}: create it (see docs/configuration.md, environments) or pick another --stack`,
    );
  }
  const document = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(document.config ?? {})) {
    if (typeof value === "object" && value !== null && "secure" in value) {
      values[fullKey] = UNDECRYPTED_SECRET;
      secretKeys.push(fullKey);
    } else {
      values[fullKey] = encodeConfigValue(value);
    }
  }
  return { values, secretKeys };
}
