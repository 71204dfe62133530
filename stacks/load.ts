/**
 * The one place configuration is read. `parseStackConfig` is pure (raw strings in, typed config or
 * a ConfigError out); `loadStackConfig` feeds it from the Pulumi runtime. Both run before any
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { parse as parseYaml } from "yaml";
import type { ZodError } from "zod";
import { crossKeyRules, type PartialConfig } from "./checks";
import { cloudRules, derivedKeystoneUrl } from "./cloudChecks";
import { type DeployerCredentials, readDeployerCredentials } from "./deployer";
import { ConfigError, type ConfigProblem } from "./errors";
import { type ConfigKeyName, type ConfigValues, configKeys } from "./keys";
import { type DefaultContext, defaultFor, ENVIRONMENTS, type Environment, type KeySpec } from "./spec";
import { UNDECRYPTED_SECRET } from "./stackFile";

export const PROJECT = "istio-openstack";

export interface StackConfig extends ConfigValues {
  readonly project: string;
  readonly stack: string;
  /** How the deployer authenticates, as far as the program can tell (keystoneUrl's and the region's fallback). */
  readonly deployer: DeployerCredentials;
}

/** Nothing known about the deployer's credentials (tests, and the loader before it reads them). */
export const UNKNOWN_DEPLOYER: DeployerCredentials = { source: "unknown credentials", applicationCredential: false };

export interface RawConfig {
  /** Values as the Pulumi engine hands them over: strings, with arrays and objects JSON-encoded. */
  readonly values: Readonly<Record<string, string>>;
  /** Keys (without namespace) whose values were set as secrets. */
  readonly secretKeys?: ReadonlySet<string>;
  /** Full keys outside the project's namespace (providers' keys, and typos such as `istio-openstak:adminCidrs`). */
  readonly otherKeys?: readonly string[];
  /** The deployer's credentials as the OpenStack provider will find them (stacks/deployer.ts). */
  readonly deployer?: DeployerCredentials;
}

/** Namespaces whose keys belong to someone else: the providers this program uses, and Pulumi's own. */
const PROVIDER_NAMESPACES = ["openstack", "kubernetes", "tls", "random", "command", "pulumi"];

const specs: Readonly<Record<ConfigKeyName, KeySpec>> = configKeys;
const keyNames = Object.keys(specs) as ConfigKeyName[];

/** Turns the engine's string into the value the key's type declares; on mismatch the string stays and the schema reports it. */
function decode(spec: KeySpec, raw: string, path: string): { value: unknown } | { problem: ConfigProblem } {
  switch (spec.type) {
    case "integer":
      return { value: /^[-+]?\d+$/.test(raw.trim()) ? Number(raw) : raw };
    case "boolean":
      return { value: raw === "true" ? true : raw === "false" ? false : raw };
    case "array": {
      try {
        return { value: JSON.parse(raw) };
      } catch {
        return { value: raw };
      }
    }
    case "string":
      if (!spec.yamlDocument) return { value: raw };
      try {
        return { value: parseYaml(raw) };
      } catch (error) {
        return {
          problem: { path, expected: `expected a YAML document: ${(error as Error).message.split("\n")[0]}` },
        };
      }
  }
}

function formatPath(name: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) =>
      typeof part === "number"
        ? `${acc}[${part}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(part))
          ? `${acc}.${String(part)}`
          : `${acc}[${JSON.stringify(String(part))}]`,
    name,
  );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, part) =>
      node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[part] : undefined,
    root,
  );
}

function zodProblems(name: string, value: unknown, error: ZodError, secret: boolean): ConfigProblem[] {
  return error.issues.map((issue) => {
    const given = valueAt(value, issue.path);
    if (issue.code === "unrecognized_keys") {
      return { path: formatPath(name, issue.path), expected: `unknown field(s) ${issue.keys.join(", ")}` };
    }
    if (issue.code === "invalid_key") {
      // A record's key failed: report the key itself and why, not the value behind it.
      const reasons = issue.issues.map((inner) => inner.message).join("; ");
      return { path: formatPath(name, issue.path), expected: `invalid key: ${reasons}`, given: issue.path.at(-1) };
    }
    return {
      path: formatPath(name, issue.path),
      expected: issue.message,
      given,
      givenIsSecret: secret && given !== undefined,
    };
  });
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

function closestKey(name: string): { candidate: ConfigKeyName; distance: number } | undefined {
  return keyNames
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
}

/**
 * A mistyped key is reported with the nearest known one. Its value is shown only when it cannot be a
 * secret: not when it was set with --secret, and not when the key it most likely meant is a secret
 * key (a typo of existingKubeconfig set without --secret still holds a kubeconfig).
 */
function unknownKeyProblem(name: string, given: string, setAsSecret: boolean): ConfigProblem {
  const closest = closestKey(name);
  const meant = closest && closest.distance <= 3 ? closest.candidate : undefined;
  const hint = meant ? `did you mean ${meant}?` : "see docs/configuration.md for the keys";
  const secret = setAsSecret || (meant !== undefined && Boolean(specs[meant].secret));
  return { path: name, given, givenIsSecret: secret, expected: `unknown key (a typo is never ignored); ${hint}` };
}

/**
 * A key this program would silently never read: one without a namespace (only a stack file read
 * offline can hold one; the CLI refuses them), or one under a namespace that is a misspelling of the
 * project's or that names one of its keys. Other namespaces (a shared ESC environment's) are left alone.
 */
function foreignKeyProblem(fullKey: string, project: string): ConfigProblem | undefined {
  const colon = fullKey.indexOf(":");
  const namespace = colon < 0 ? undefined : fullKey.slice(0, colon);
  const name = colon < 0 ? fullKey : fullKey.slice(colon + 1);
  if (namespace !== undefined && PROVIDER_NAMESPACES.includes(namespace)) return undefined;
  const closest = closestKey(name);
  const suggestion =
    closest && closest.distance <= 3 ? `did you mean ${project}:${closest.candidate}?` : `keys live under ${project}:`;
  if (namespace === undefined) {
    return {
      path: fullKey,
      outsideNamespace: true,
      expected: `a key without a namespace is never read; ${suggestion}`,
    };
  }
  const misspelt = editDistance(namespace.toLowerCase(), project.toLowerCase()) <= 3;
  if (!misspelt && !(name in specs)) return undefined;
  return {
    path: fullKey,
    outsideNamespace: true,
    expected: `namespace ${namespace} is not this project's (${project}), so the key is never read; ${suggestion}`,
  };
}

/** The environment a stack's name promises: `prod`, `prod-eu`, `eu-prod` → prod (the strongest named). */
function environmentOfStackName(stack: string): Environment | undefined {
  const words = stack.toLowerCase().split(/[-_.]/);
  return [...ENVIRONMENTS].reverse().find((environment) => words.includes(environment));
}

function weakerThanStackName(environment: Environment, stack: string): ConfigProblem[] {
  const promised = environmentOfStackName(stack);
  if (promised === undefined || ENVIRONMENTS.indexOf(environment) >= ENVIRONMENTS.indexOf(promised)) return [];
  return [
    {
      path: "environment",
      given: environment,
      expected: `is weaker than the stack's name says (${stack}: ${promised}); ${environment}'s defaults and guard rails would apply to it. Use environment ${promised}, or a stack name that does not say ${promised}`,
    },
  ];
}

function resolveEnvironment(raw: RawConfig, stack: string): Environment | undefined {
  const candidate = raw.values.environment ?? stack;
  return (ENVIRONMENTS as readonly string[]).includes(candidate) ? (candidate as Environment) : undefined;
}

export function parseStackConfig(raw: RawConfig, stack: string, project = PROJECT): StackConfig {
  const problems: ConfigProblem[] = [];
  const secretKeys = raw.secretKeys ?? new Set<string>();

  for (const [name, given] of Object.entries(raw.values)) {
    if (!(name in specs)) problems.push(unknownKeyProblem(name, given, secretKeys.has(name)));
  }
  for (const fullKey of raw.otherKeys ?? []) {
    const problem = foreignKeyProblem(fullKey, project);
    if (problem) problems.push(problem);
  }

  const environment = resolveEnvironment(raw, stack);
  if (environment === undefined) {
    problems.push({
      path: "environment",
      given: raw.values.environment,
      expected: `expected one of ${ENVIRONMENTS.join(", ")} (required when the stack is not named after one)`,
    });
    throw new ConfigError(stack, project, problems);
  }
  problems.push(...weakerThanStackName(environment, stack));
  const context: DefaultContext = { environment, stack };

  const parsed: Record<string, unknown> = {};
  for (const name of keyNames) {
    const spec = specs[name];
    const rawValue = raw.values[name];
    let value: unknown;
    if (rawValue === undefined) {
      value = defaultFor(spec, context);
      if (value === undefined) {
        if (!spec.optional) problems.push({ path: name, expected: `required: ${spec.description}` });
        continue;
      }
    } else {
      if (spec.secret && !secretKeys.has(name)) {
        problems.push({ path: name, expected: `must be set as a secret: pulumi config set --secret ${name} ...` });
      }
      if (secretKeys.has(name) && rawValue === UNDECRYPTED_SECRET) {
        // The offline plan cannot decrypt a `secure:` value: it is given, and only the engine,
        // which decrypts it, can judge it (a length rule would refuse the stand-in text).
        parsed[name] = rawValue;
        continue;
      }
      const decoded = decode(spec, rawValue, name);
      if ("problem" in decoded) {
        problems.push(decoded.problem);
        continue;
      }
      value = decoded.value;
    }
    const result = spec.schema.safeParse(value);
    if (result.success) parsed[name] = result.data;
    else problems.push(...zodProblems(name, value, result.error, Boolean(spec.secret)));
  }

  const deployer = raw.deployer ?? UNKNOWN_DEPLOYER;
  const derivedUrl = derivedKeystoneUrl(parsed as PartialConfig, deployer);
  if (derivedUrl !== undefined) {
    const result = specs.keystoneUrl.schema.safeParse(derivedUrl);
    if (result.success) parsed.keystoneUrl = result.data;
    else
      problems.push({
        path: "keystoneUrl",
        given: derivedUrl,
        expected: `taken from ${deployer.source}: ${result.error.issues[0]?.message}`,
      });
  }

  for (const rule of crossKeyRules) problems.push(...rule(parsed as PartialConfig));
  problems.push(...cloudRules(parsed as PartialConfig, deployer));
  if (problems.length > 0) throw new ConfigError(stack, project, problems);
  return { ...(parsed as unknown as ConfigValues), project, stack, deployer };
}

/** The SDK knows which keys were set with --secret but marks the lookup internal; fail closed if it goes away. */
const isConfigSecret: (fullKey: string) => boolean =
  (runtimeConfig as unknown as { isConfigSecret?: (fullKey: string) => boolean }).isConfigSecret ??
  (() => {
    throw new Error("@pulumi/pulumi no longer exposes runtime.isConfigSecret; update stacks/load.ts");
  });

/** Reads this project's keys from the running Pulumi program (engine or mocks) and validates them. */
export function loadStackConfig(): StackConfig {
  const project = pulumi.getProject();
  const prefix = `${project}:`;
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const otherKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) {
      otherKeys.push(fullKey);
      continue;
    }
    const name = fullKey.slice(prefix.length);
    values[name] = value;
    if (isConfigSecret(fullKey)) secretKeys.add(name);
  }
  const deployer = readDeployerCredentials(values.openstackCloud);
  return parseStackConfig({ values, secretKeys, otherKeys, deployer }, pulumi.getStack(), project);
}
