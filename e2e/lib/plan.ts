/**
 * The project's offline plan (`tools/plan.ts`, the program under its own mocks) of a ring's stack
 * file: what the real state must hold, and the artifacts a reviewer reads (user data, Helm values).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { run } from "./proc";
import { countByType } from "./pulumi";

/** A resource of the plan (tools/plan.ts resources.json; secret inputs masked). */
export interface PlannedResource {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly secretInputs: readonly string[];
  readonly options: { readonly retainOnDelete?: boolean; readonly protect?: boolean };
}

/** A Helm release of the plan: the chart it asks for and the values it gives (plan/helm/). */
export interface PlannedRelease {
  /** The Helm release name (the resource's `name` input). */
  readonly name: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
  readonly repositoryOpts?: { readonly repo?: string };
  readonly values: Record<string, unknown>;
}

export interface Plan {
  readonly dir: string;
  readonly resources: readonly PlannedResource[];
  /** Resources by type, as countByType counts the state. */
  readonly counts: Record<string, number>;
  /** Rendered user data by file name (user-data/<node>.yaml). */
  readonly userData: Record<string, string>;
  /** Helm releases by logical name. */
  readonly releases: Record<string, PlannedRelease>;
}

export async function plan(repoRoot: string, stackFile: string, stack: string, out: string): Promise<Plan> {
  await run(
    path.join(repoRoot, "node_modules/.bin/tsx"),
    ["tools/plan.ts", "--stack", stack, "--stack-file", stackFile, "--out", out],
    { cwd: repoRoot, timeoutSeconds: 300 },
  );
  const resources = JSON.parse(readFileSync(path.join(out, "resources.json"), "utf8")) as PlannedResource[];
  const files = (dir: string) => (existsSync(path.join(out, dir)) ? readdirSync(path.join(out, dir)) : []);
  const read = (dir: string, file: string) => readFileSync(path.join(out, dir, file), "utf8");
  const userData = Object.fromEntries(files("user-data").map((file) => [file, read("user-data", file)]));
  const releases: Record<string, PlannedRelease> = {};
  for (const file of files("helm").filter((f) => f.endsWith(".chart.yaml"))) {
    const name = file.slice(0, -".chart.yaml".length);
    const chart = parseYaml(read("helm", file)) as Omit<PlannedRelease, "name" | "values">;
    const values = (parseYaml(read("helm", `${name}.values.yaml`)) ?? {}) as Record<string, unknown>;
    const resource = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === name);
    releases[name] = { name: String(resource?.inputs.name ?? name), ...chart, values };
  }
  return { dir: out, resources, counts: countByType(resources), userData, releases };
}
