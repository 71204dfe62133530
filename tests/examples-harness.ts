/**
 * Runs the consumer example (examples/consumer) under the SDK's mocks with a mocked platform stack:
 * the StackReference resolves to contract-shaped outputs, with the secret ones reported in
 * secretOutputNames exactly as the engine does. Records every resource with its inputs, which inputs
 * were secret, its dependsOn and additionalSecretOutputs.
 */
import * as path from "node:path";
import type * as pulumiSdk from "@pulumi/pulumi";

export const CONSUMER_DIR = path.resolve(__dirname, "..", "examples", "consumer");
export const CONSUMER_PROJECT = "mesh-consumer";

export interface ConsumerResource {
  readonly type: string;
  readonly name: string;
  inputs: Record<string, unknown>;
  /** Dotted paths of the inputs that were Pulumi secrets (e.g. "environment.KUBECONFIG_DATA"). */
  secretPaths: string[];
  readonly dependsOn: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
}

export interface ConsumerRun {
  readonly resources: readonly ConsumerResource[];
  readonly outputs: Record<string, unknown>;
  one(type: string, name?: string): ConsumerResource;
  ofType(type: string): ConsumerResource[];
}

export interface PlatformState {
  readonly outputs: Record<string, unknown>;
  readonly secretOutputNames: readonly string[];
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function unwrap(value: unknown, at: string, secrets: string[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIG_KEY] === SECRET_SIG) {
    secrets.push(at);
    return unwrap(record.value, at, []);
  }
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${at}[${i}]`, secrets));
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrap(v, at ? `${at}.${k}` : k, secrets)]));
}

/**
 * Evaluates examples/consumer/index.ts (or `program`, which must require what it uses itself) with the
 * given stack config (keys without the project prefix).
 */
export async function evaluateConsumer(
  config: Record<string, string>,
  platform: PlatformState,
  program: () => Record<string, unknown> = () => require(path.join(CONSUMER_DIR, "index.ts")),
): Promise<ConsumerRun> {
  let run: ConsumerRun | undefined;
  await jest.isolateModulesAsync(async () => {
    const pulumi = require("@pulumi/pulumi") as typeof pulumiSdk;
    const recorded = new Map<string, ConsumerResource>();
    const names = new Map<pulumiSdk.Resource, string>();
    let constructed = 0;
    let registered = 0;
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered++;
          const secretPaths: string[] = [];
          const inputs = unwrap(args.inputs, "", secretPaths) as Record<string, unknown>;
          const entry = recorded.get(`${args.type}::${args.name}`);
          if (entry) Object.assign(entry, { inputs, secretPaths });
          const state =
            args.type === "pulumi:pulumi:StackReference"
              ? { name: inputs.name, outputs: platform.outputs, secretOutputNames: [...platform.secretOutputNames] }
              : { ...inputs, ...(args.type === "command:local:Command" ? { stdout: "sidecar: ok", stderr: "" } : {}) };
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      CONSUMER_PROJECT,
      "dev",
      false,
    );
    pulumi.runtime.setAllConfig(
      Object.fromEntries(Object.entries(config).map(([k, v]) => [`${CONSUMER_PROJECT}:${k}`, v])),
    );
    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      let exported: Record<string, unknown> = {};
      await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((args) => {
          constructed++;
          names.set(args.resource, args.name);
          const dependsOn = ([] as unknown[])
            .concat(args.opts.dependsOn ?? [])
            .flatMap((d) => (pulumi.Resource.isInstance(d) ? [names.get(d) ?? "?"] : []));
          recorded.set(`${args.type}::${args.name}`, {
            type: args.type,
            name: args.name,
            inputs: {},
            secretPaths: [],
            dependsOn,
            additionalSecretOutputs: (args.opts as pulumiSdk.CustomResourceOptions).additionalSecretOutputs ?? [],
          });
          return undefined;
        });
        exported = program();
        return exported;
      });
      const outputs = (await (
        pulumi.output(exported) as unknown as { promise(): Promise<Record<string, unknown>> }
      ).promise()) as Record<string, unknown>;
      const deadline = Date.now() + 10_000;
      while (registered < constructed && failures.length === 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 5));
      }
      await new Promise((done) => setTimeout(done, 10));
      if (failures.length > 0) throw failures[0];
      const resources = [...recorded.values()];
      const ofType = (type: string) => resources.filter((r) => r.type === type);
      run = {
        resources,
        outputs,
        ofType,
        one: (type, name) => {
          const found = ofType(type).filter((r) => name === undefined || r.name === name);
          if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
          return found[0];
        },
      };
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
  if (!run) throw new Error("the consumer did not run");
  return run;
}
