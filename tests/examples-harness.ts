/**
 * Runs the consumer example (examples/consumer) under the SDK's mocks with a mocked platform stack:
 * the StackReference resolves to contract-shaped outputs, with the secret ones reported in
 * secretOutputNames exactly as the engine does. Records every resource with its inputs, which inputs
 * were secret, its dependsOn and additionalSecretOutputs.
 */
import * as path from "node:path";

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
    const { runUnderMocks } = require("../tools/mocks") as typeof import("../tools/mocks");
    const mocked = await runUnderMocks(program, {
      project: CONSUMER_PROJECT,
      stack: "dev",
      config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`${CONSUMER_PROJECT}:${k}`, v])),
      computed: {
        // The platform stack, as the engine resolves a StackReference: its outputs and which are secret.
        "pulumi:pulumi:StackReference": (_name, inputs) => ({
          name: inputs.name,
          outputs: platform.outputs,
          secretOutputNames: [...platform.secretOutputNames],
        }),
        "command:local:Command": () => ({ stdout: "sidecar: ok", stderr: "" }),
      },
    });
    const nameOf = new Map(mocked.resources.map((r) => [r.key, r.name]));
    const resources: ConsumerResource[] = mocked.resources.map((r) => ({
      type: r.type,
      name: r.name,
      inputs: r.inputs,
      secretPaths: [...r.secretPaths],
      dependsOn: r.dependsOn.map((key) => nameOf.get(key) ?? key),
      additionalSecretOutputs: r.options.additionalSecretOutputs ?? [],
    }));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    run = {
      resources,
      outputs: mocked.outputs,
      ofType,
      one: (type, name) => {
        const found = ofType(type).filter((r) => name === undefined || r.name === name);
        if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
        return found[0];
      },
    };
  });
  if (!run) throw new Error("the consumer did not run");
  return run;
}
