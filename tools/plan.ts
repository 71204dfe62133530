/**
 * `npm run plan -- --stack <name> [--out <dir>] [--stack-file <file>] [--flavors <file>]`: what
 * `pulumi up` would create, evaluated offline under the SDK's mocks. Prints the resource tree, counts
 * per type, what the stack takes from the project's quotas and the config in effect; writes the
 * rendered artifacts (resources, user data, Helm values, quota.json) to plan/<stack>/. Exits 1 with
 * the validation message on bad configuration, before any resource is registered.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { readDeployerCredentials } from "../stacks/deployer";
import { ConfigError } from "../stacks/errors";
import { PROJECT, parseStackConfig, type StackConfig } from "../stacks/load";
import { readStackFile } from "../stacks/stackFile";
import { type MockRun, type RecordedResource, runUnderMocks } from "./mocks";
import { CLASSIC_M1_FLAVORS, flavorTableFromOpenstackJson, formatQuotaSummary, quotaSummary } from "./quota";

const projectDir = path.resolve(__dirname, "..");

interface Artifact {
  readonly file: string;
  readonly content: string;
}

interface PlanArgs {
  readonly stack: string;
  readonly out?: string;
  /** A stack file elsewhere than Pulumi.<stack>.yaml beside Pulumi.yaml. */
  readonly stackFile?: string;
  /** The cloud's flavors (`openstack flavor list --long -f json`) for the quota summary's vCPU and RAM. */
  readonly flavors?: string;
}

/** The stack a stack file belongs to, by the CLI's naming: Pulumi.<stack>.yaml. */
export function stackOfFile(file: string): string | undefined {
  return /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file))?.[1];
}

export function parseArgs(argv: readonly string[]): PlanArgs {
  const args: { stack?: string; out?: string; stackFile?: string; flavors?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--stack" && value) args.stack = value;
    else if (argv[i] === "--out" && value) args.out = value;
    else if (argv[i] === "--stack-file" && value) args.stackFile = value;
    else if (argv[i] === "--flavors" && value) args.flavors = value;
    else
      throw new Error(
        `bad argument ${argv[i]}; usage: npm run plan -- --stack <name> [--out <dir>] [--stack-file <file>] [--flavors <file>]`,
      );
    i++;
  }
  // A stack file says which stack it is: Pulumi.prod.yaml evaluates as prod, never as the default dev.
  const stack = args.stack ?? (args.stackFile ? stackOfFile(args.stackFile) : "dev");
  if (stack === undefined) {
    throw new Error(
      `cannot tell the stack from the file name ${args.stackFile} (not Pulumi.<stack>.yaml): add --stack <name>`,
    );
  }
  return { ...args, stack };
}

const maskSecrets = (resource: RecordedResource): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(resource.inputs).map(([k, v]) => [k, resource.secretInputs.includes(k) ? "[secret]" : v]),
  );

/** The files a reviewer reads in a pull request: what each node boots with, what each chart is given. */
function artifactsOf(resource: RecordedResource): Artifact[] {
  if (resource.type === "openstack:compute/instance:Instance" && typeof resource.inputs.userData === "string") {
    return [{ file: `user-data/${resource.name}.yaml`, content: resource.inputs.userData }];
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release") {
    const { chart, version, repositoryOpts, namespace } = resource.inputs;
    return [
      { file: `helm/${resource.name}.values.yaml`, content: toYaml(resource.inputs.values ?? {}) },
      { file: `helm/${resource.name}.chart.yaml`, content: toYaml({ chart, version, namespace, repositoryOpts }) },
    ];
  }
  return [];
}

function printTree(resources: readonly RecordedResource[]): string[] {
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const r of resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const flags = [
        r.options.protect ? "protected" : "",
        r.options.ignoreChanges ? `ignores ${r.options.ignoreChanges.join(",")}` : "",
      ]
        .filter(Boolean)
        .join("; ");
      lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${flags ? `  (${flags})` : ""}`);
      walk(r.key, depth + 1);
    }
  };
  walk(undefined, 1);
  return lines;
}

function countByType(resources: readonly RecordedResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * Evaluates a stack's program offline, as `pulumi up` would run it. `options.keySalt` (see
 * MockRunOptions) gives fresh key material instead of the stable, name-derived one.
 */
export async function evaluateStack(
  stack: string,
  stackFile?: string,
  options: {
    keySalt?: string;
    /** Extra config (keys without the project prefix, values as the engine passes them), e.g. a test variant. */
    overrides?: { readonly values: Readonly<Record<string, string>>; readonly secretKeys: readonly string[] };
  } = {},
): Promise<{ config: StackConfig; run: MockRun }> {
  const read = readStackFile(projectDir, stack, stackFile);
  const prefixed = (k: string) => `${PROJECT}:${k}`;
  const file = options.overrides
    ? {
        values: {
          ...read.values,
          ...Object.fromEntries(Object.entries(options.overrides.values).map(([k, v]) => [prefixed(k), v])),
        },
        secretKeys: [...read.secretKeys, ...options.overrides.secretKeys.map(prefixed)],
      }
    : read;
  // Validate first, exactly as the program will: a bad config never reaches the mocks.
  const prefix = `${PROJECT}:`;
  const values = Object.fromEntries(
    Object.entries(file.values)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const secretKeys = new Set(file.secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
  const otherKeys = Object.keys(file.values).filter((k) => !k.startsWith(prefix));
  // The deployer's credentials as `pulumi up` on this machine would find them (keystoneUrl's fallback).
  const deployer = readDeployerCredentials(values.openstackCloud);
  const config = parseStackConfig({ values, secretKeys, otherKeys, deployer }, stack);
  const run = await runUnderMocks(() => require("../index"), {
    project: PROJECT,
    stack,
    config: file.values,
    secretKeys: file.secretKeys,
    ...(options.keySalt ? { keySalt: options.keySalt } : {}),
    // Offline there is no subnet to look up: a bring-your-own subnet is taken to be what nodeCidr says.
    ...(config.existingSubnetId
      ? { fixtures: { subnets: { [config.existingSubnetId]: { cidr: config.nodeCidr } } } }
      : {}),
  });
  return { config, run };
}

async function main(): Promise<void> {
  const { stack, out, stackFile, flavors } = parseArgs(process.argv.slice(2));
  const flavorTable = flavors
    ? flavorTableFromOpenstackJson(readFileSync(flavors, "utf8"), flavors)
    : CLASSIC_M1_FLAVORS;
  const outDir = path.resolve(out ?? path.join(projectDir, "plan", stack));
  const started = process.hrtime.bigint();
  const { config, run } = await evaluateStack(stack, stackFile);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

  rmSync(outDir, { recursive: true, force: true });
  const quota = quotaSummary(run.resources, flavorTable);
  const artifacts: Artifact[] = [
    { file: "quota.json", content: `${JSON.stringify(quota, null, 2)}\n` },
    { file: "config.json", content: `${JSON.stringify(config, null, 2)}\n` },
    {
      file: "resources.json",
      content: `${JSON.stringify(
        run.resources.map((r) => ({ ...r, inputs: maskSecrets(r) })),
        null,
        2,
      )}\n`,
    },
    { file: "outputs.json", content: `${JSON.stringify(Object.keys(run.outputs), null, 2)}\n` },
    ...run.resources.flatMap(artifactsOf),
  ];
  for (const artifact of artifacts) {
    const target = path.join(outDir, artifact.file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, artifact.content);
  }

  const custom = run.resources.filter((r) => r.custom);
  const out_: string[] = [
    `Plan for stack "${stack}" (environment ${config.environment}), evaluated offline in ${elapsedMs.toFixed(0)} ms: nothing was created.`,
    "",
    "Config in effect:",
    ...Object.entries(config)
      .filter(([k]) => k !== "project" && k !== "stack")
      .map(([k, v]) => `  ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`),
    "",
    `Resources (${custom.length} to create, in ${run.resources.length - custom.length} components):`,
    ...printTree(run.resources),
    "",
    "Counts by type:",
    ...countByType(run.resources).map(([type, n]) => `  ${String(n).padStart(4)}  ${type}`),
    "",
    "Quota use (compare with `openstack quota show` and `openstack loadbalancer quota show`; also in quota.json):",
    ...formatQuotaSummary(quota),
    "",
    `Stack outputs: ${Object.keys(run.outputs).join(", ")}${run.secretOutputs.length ? ` (secret: ${run.secretOutputs.join(", ")})` : ""}`,
    `Artifacts: ${artifacts.length} files in ${path.relative(process.cwd(), outDir) || "."}/`,
  ];
  process.stdout.write(`${out_.join("\n")}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
