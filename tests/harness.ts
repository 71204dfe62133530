/**
 * Test helpers: build raw configuration the way the engine passes it, and evaluate the whole program
 * (index.ts) or one component under the SDK's mocks in an isolated module registry, so several
 * stacks can be evaluated in one test file.
 */
import * as path from "node:path";
import { readDeployerCredentials } from "../stacks/deployer";
import type { RawConfig, StackConfig } from "../stacks/load";
import { encodeConfigValue, readStackFile } from "../stacks/stackFile";
import type { MockFixtures, MockRun, RecordedResource } from "../tools/mocks";
import { cacheEnabled, evaluationKey, evaluationStore, programFingerprint } from "./evaluationCache";

export const PROJECT = "istio-openstack";
export const ROOT = path.resolve(__dirname, "..");

/** Values of a committed stack file with overrides (undefined removes a key), without the namespace. */
export function stackValues(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  const prefix = `${PROJECT}:`;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(readStackFile(ROOT, stack).values)) {
    if (k.startsWith(prefix)) values[k.slice(prefix.length)] = v;
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete values[k];
    else values[k] = encodeConfigValue(v);
  }
  return values;
}

export function rawConfig(
  stack: string,
  overrides: Record<string, unknown> = {},
  secretKeys: string[] = [],
): RawConfig {
  return { values: stackValues(stack, overrides), secretKeys: new Set(secretKeys) };
}

export interface Evaluation extends MockRun {
  readonly config: StackConfig;
  ofType(type: string): RecordedResource[];
  one(type: string, name: string): RecordedResource;
}

function withQueries(run: MockRun, config: StackConfig): Evaluation {
  return {
    ...run,
    config,
    ofType: (type) => run.resources.filter((r) => r.type === type),
    one: (type, name) => {
      const found = run.resources.find((r) => r.type === type && r.name === name);
      if (!found) {
        const names = run.resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
      }
      return found;
    },
  };
}

/**
 * Evaluates index.ts for a stack, with config overrides, exactly as `pulumi up` would run it (under mocks).
 * An identical evaluation made before (by any test file of this run or an earlier run, with the same
 * program files, inputs and environment) is read from disk instead: see tests/evaluationCache.ts.
 * `fresh: true` evaluates now regardless (to test the evaluation itself, e.g. that it is deterministic).
 */
export async function evaluateStack(
  stack: string,
  overrides: Record<string, unknown> = {},
  options: { secretKeys?: string[]; fixtures?: MockFixtures; fresh?: boolean } = {},
): Promise<Evaluation> {
  const values = stackValues(stack, overrides);
  const secretKeys = options.secretKeys ?? [];
  const evaluate = () => evaluateNow(stack, values, secretKeys, options.fixtures);
  if (options.fresh || !cacheEnabled()) return withQueries(...(await evaluate()));
  // As the program reads them: the deployer's credentials from this process's environment and files.
  const deployer = readDeployerCredentials(values.openstackCloud);
  const fingerprint = programFingerprint(ROOT);
  const key = evaluationKey(fingerprint, { stack, values, secretKeys, fixtures: options.fixtures, deployer });
  const store = evaluationStore(path.join(ROOT, ".e2e", "evaluations"), fingerprint);
  return withQueries(...(await store.through(key, evaluate)));
}

/** A fresh evaluation in an isolated module registry: the run and the parsed configuration. */
async function evaluateNow(
  stack: string,
  values: Record<string, string>,
  secretKeys: readonly string[],
  fixtures: MockFixtures | undefined,
): Promise<[MockRun, StackConfig]> {
  const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`${PROJECT}:${k}`, v]));
  let evaluation: [MockRun, StackConfig] | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runUnderMocks } = require("../tools/mocks") as typeof import("../tools/mocks");
    const { parseStackConfig } = require("../stacks/load") as typeof import("../stacks/load");
    const { readDeployerCredentials } = require("../stacks/deployer") as typeof import("../stacks/deployer");
    // As the program reads it: the deployer's credentials from this process's environment.
    const deployer = readDeployerCredentials(values.openstackCloud);
    const parsed = parseStackConfig({ values, secretKeys: new Set(secretKeys), deployer }, stack);
    const run = await runUnderMocks(() => require("../index"), {
      project: PROJECT,
      stack,
      config,
      secretKeys: secretKeys.map((k) => `${PROJECT}:${k}`),
      ...(fixtures ? { fixtures } : {}),
    });
    // The recorded data only: what a stored evaluation holds too.
    const { resources, outputs, secretOutputs, computedOutputs } = run;
    evaluation = [{ resources, outputs, secretOutputs, computedOutputs }, parsed];
  });
  if (!evaluation) throw new Error("evaluation did not run");
  return evaluation;
}

/** Evaluates a program built in the test (e.g. one component) under mocks, in an isolated registry. */
export async function evaluateProgram(
  build: () => Record<string, unknown> | undefined,
  fixtures?: MockFixtures,
): Promise<MockRun & Pick<Evaluation, "ofType" | "one">> {
  let result: (MockRun & Pick<Evaluation, "ofType" | "one">) | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runUnderMocks } = require("../tools/mocks") as typeof import("../tools/mocks");
    const run = await runUnderMocks(build, {
      project: PROJECT,
      stack: "test",
      config: {},
      ...(fixtures ? { fixtures } : {}),
    });
    const { ofType, one } = withQueries(run, {} as StackConfig);
    result = { ...run, ofType, one };
  });
  if (!result) throw new Error("evaluation did not run");
  return result;
}
