/**
 * The real Pulumi CLI on the project's own program, for both real-engine rings. The stacks live in
 * a work directory: a project folder whose Pulumi.yaml is the repository's own with `main:` pointing
 * back at the repository (so index.ts, components/ and node_modules are the project's, unchanged),
 * the stack files the driver writes next to it, and a file backend. Nothing is written into the
 * source tree.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { attempt, CommandError, describeFailure, type RunResult, run } from "./proc";

export const PROJECT = "istio-openstack";

/** One step of a preview or an update, as the engine reports it. */
export interface Step {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

export interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly id?: string;
  readonly custom: boolean;
  /** A read (`Resource.get`): looked up, not managed. */
  readonly external: boolean;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
}

/**
 * How long the engine spent on one resource: from its step's start event to its outputs event (or
 * its failure). The engine's event timestamps are whole seconds: a sub-second create reads 0 or 1.
 */
export interface ResourceTiming {
  readonly urn: string;
  readonly type: string;
  readonly op: string;
  readonly seconds: number;
}

export interface OperationResult {
  /** Every step the engine reported (same included). */
  readonly steps: Step[];
  /**
   * What each step did, from the engine's outputs events (up/refresh/destroy): a refresh step is
   * reported as `refresh` before and as `same` or `update` after, once the provider has read it.
   */
  readonly outcomes: Step[];
  readonly changeSummary: Record<string, number>;
  readonly run: RunResult;
  /** up, refresh and destroy: each custom resource's step that was not `same`. */
  readonly timings: ResourceTiming[];
}

/** Step types that create, replace or delete something. */
export const DESTRUCTIVE_OPS = ["create", "replace", "create-replacement", "delete", "delete-replaced", "discard"];

export function stepOf(op: string, urn: string): Step {
  // urn:pulumi:<stack>::<project>::<parent types $ separated>$<type>::<name>
  const parts = urn.split("::");
  const types = parts[2] ?? "";
  return { op, urn, type: types.split("$").pop() ?? types, name: parts.slice(3).join("::") };
}

/** The top-level JSON values of a stream of concatenated (pretty-printed) JSON documents. */
export function parseJsonStream(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0 && start >= 0) {
        values.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  return values;
}

type Json = Record<string, unknown>;

interface StepMetadata {
  readonly op: string;
  readonly urn: string;
  readonly old?: { readonly custom?: boolean };
  readonly new?: { readonly custom?: boolean };
}

/** What the event stream of `up/refresh/destroy --json` says: steps, the change summary, engine errors, timings. */
export function engineEvents(stdout: string): {
  steps: Step[];
  outcomes: Step[];
  changeSummary: Record<string, number>;
  errors: string[];
  timings: ResourceTiming[];
} {
  const events = parseJsonStream(stdout).filter((v): v is Json => typeof v === "object" && v !== null);
  const steps: Step[] = [];
  const outcomes: Step[] = [];
  let changeSummary: Record<string, number> = {};
  const errors: string[] = [];
  const started = new Map<string, { op: string; at: number }>();
  const timings: ResourceTiming[] = [];
  for (const event of events) {
    const at = Number(event.timestamp);
    const pre = event.resourcePreEvent as { metadata?: StepMetadata } | undefined;
    if (pre?.metadata) {
      const { op, urn } = pre.metadata;
      steps.push(stepOf(op, urn));
      // Components and the stack "finish" when their children do: only real operations are timed.
      const custom = (pre.metadata.new ?? pre.metadata.old)?.custom !== false;
      if (op !== "same" && custom) started.set(urn, { op, at });
    }
    const outputs = event.resOutputsEvent as { metadata?: StepMetadata } | undefined;
    if (outputs?.metadata) outcomes.push(stepOf(outputs.metadata.op, outputs.metadata.urn));
    const done = (event.resOutputsEvent ?? event.resOpFailedEvent) as { metadata?: { urn: string } } | undefined;
    const begun = done?.metadata ? started.get(done.metadata.urn) : undefined;
    if (done?.metadata && begun) {
      const { type } = stepOf(begun.op, done.metadata.urn);
      timings.push({ urn: done.metadata.urn, type, op: begun.op, seconds: at - begun.at });
      started.delete(done.metadata.urn);
    }
    const summary = event.summaryEvent as { resourceChanges?: Record<string, number> } | undefined;
    if (summary?.resourceChanges) changeSummary = summary.resourceChanges;
    const diagnostic = event.diagnosticEvent as { severity?: string; message?: string; urn?: string } | undefined;
    if (diagnostic?.severity === "error") {
      const where = diagnostic.urn ? `${stepOf("", diagnostic.urn).type} ${stepOf("", diagnostic.urn).name}: ` : "";
      const text = `${where}${(diagnostic.message ?? "").replace(/\s+/g, " ").trim()}`;
      if (!errors.includes(text)) errors.push(text);
    }
  }
  return { steps, outcomes, changeSummary, errors, timings };
}

export interface PulumiOptions {
  readonly repoRoot: string;
  readonly workDir: string;
  /** Environment with the engine (engine.env), backend, passphrase and cloud settings. */
  readonly env: NodeJS.ProcessEnv;
}

export class PulumiProject {
  readonly projectDir: string;
  readonly backendDir: string;

  constructor(private readonly options: PulumiOptions) {
    this.projectDir = path.join(options.workDir, "project");
    this.backendDir = path.join(options.workDir, "backend");
    mkdirSync(this.projectDir, { recursive: true });
    mkdirSync(this.backendDir, { recursive: true });
    // The repository's own Pulumi.yaml (the config keys it declares are checked by the CLI as for
    // any user), with the program taken from the repository.
    const project = parseYaml(readFileSync(path.join(options.repoRoot, "Pulumi.yaml"), "utf8")) as Json;
    writeFileSync(
      path.join(this.projectDir, "Pulumi.yaml"),
      `# Written by the e2e driver: the repository's Pulumi.yaml, program taken from the repository.\n${toYaml({ ...project, main: options.repoRoot }, { lineWidth: 0 })}`,
    );
  }

  get env(): NodeJS.ProcessEnv {
    return { ...this.options.env, PULUMI_BACKEND_URL: `file://${this.backendDir}` };
  }

  private pulumi(args: string[], timeoutSeconds: number): Promise<RunResult> {
    return attempt("pulumi", args, { env: this.env, cwd: this.projectDir, timeoutSeconds });
  }

  private async pulumiOk(args: string[], timeoutSeconds: number): Promise<RunResult> {
    const result = await this.pulumi(args, timeoutSeconds);
    if (result.status !== 0) throw new CommandError(describeFailure(result), result);
    return result;
  }

  async version(): Promise<string> {
    return (await run("pulumi", ["version"], { env: this.env, timeoutSeconds: 60 })).stdout.trim();
  }

  async stacks(): Promise<{ name: string; resourceCount?: number }[]> {
    const result = await this.pulumiOk(["stack", "ls", "--json"], 120);
    return JSON.parse(result.stdout || "[]") as { name: string; resourceCount?: number }[];
  }

  async initStack(stack: string): Promise<void> {
    await this.pulumiOk(["stack", "init", stack], 120);
  }

  stackFile(stack: string): string {
    return path.join(this.projectDir, `Pulumi.${stack}.yaml`);
  }

  /**
   * Writes the stack's config (project keys without namespace), keeping what `stack init` wrote (the
   * salt) and the secrets setSecret stored (encrypted) unless `values` names them.
   */
  writeConfig(stack: string, values: Record<string, unknown>): void {
    const file = this.stackFile(stack);
    const existing = existsSync(file) ? ((parseYaml(readFileSync(file, "utf8")) ?? {}) as Json) : {};
    const secrets = Object.entries((existing.config as Json | undefined) ?? {}).filter(
      ([, v]) => typeof v === "object" && v !== null && "secure" in v,
    );
    const config = {
      ...Object.fromEntries(secrets),
      ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`${PROJECT}:${k}`, v])),
    };
    writeFileSync(file, toYaml({ ...existing, config }, { lineWidth: 0 }));
  }

  /** `pulumi config set --secret`: the value goes through stdin, never on a command line. */
  async setSecret(stack: string, key: string, value: string): Promise<void> {
    const args = ["config", "set", "--secret", "--stack", stack, `${PROJECT}:${key}`];
    const result = await attempt("pulumi", args, {
      env: this.env,
      cwd: this.projectDir,
      timeoutSeconds: 120,
      input: value,
    });
    if (result.status !== 0) throw new CommandError(describeFailure(result), result);
  }

  readConfig(stack: string): Record<string, unknown> {
    const document = parseYaml(readFileSync(this.stackFile(stack), "utf8")) as { config?: Json };
    return Object.fromEntries(
      Object.entries(document.config ?? {}).map(([k, v]) => [k.slice(PROJECT.length + 1), v as unknown]),
    );
  }

  /** `pulumi preview --json`: the planned steps. With expectNoChanges, a proposed change fails (exit status). */
  /** With refresh: the state is refreshed first (in memory; `pulumi preview --refresh`). */
  async preview(
    stack: string,
    options: { expectNoChanges?: boolean; refresh?: boolean } = {},
  ): Promise<OperationResult> {
    const args = [
      "preview",
      "--stack",
      stack,
      "--json",
      ...(options.expectNoChanges ? ["--expect-no-changes"] : []),
      ...(options.refresh ? ["--refresh"] : []),
    ];
    const result = await this.pulumi(args, 900);
    const document = parseJsonStream(result.stdout).find(
      (v): v is Json => typeof v === "object" && v !== null && "steps" in v,
    );
    const steps = ((document?.steps as Json[] | undefined) ?? []).map((s) => stepOf(String(s.op), String(s.urn)));
    const changeSummary = (document?.changeSummary as Record<string, number> | undefined) ?? {};
    if (result.status !== 0) {
      const changed = steps.filter((s) => s.op !== "same");
      const diagnostics = ((document?.diagnostics as Json[] | undefined) ?? [])
        .filter((d) => d.severity === "error")
        .map((d) =>
          String(d.message ?? "")
            .replace(/\s+/g, " ")
            .trim(),
        );
      throw new CommandError(
        `${describeFailure(result, 40, { stdout: !document })}${diagnostics.length ? `\nengine errors:\n  ${diagnostics.join("\n  ")}` : ""}${changed.length ? `\nproposed: ${changed.map((s) => `${s.op} ${s.type} ${s.name}`).join("; ")}` : ""}`,
        result,
      );
    }
    return { steps, outcomes: [], changeSummary, run: result, timings: [] };
  }

  /** `pulumi preview` as a user runs it (text, not JSON), whatever its exit status. */
  previewText(stack: string): Promise<RunResult> {
    return this.pulumi(["preview", "--stack", stack], 900);
  }

  /** up / refresh / destroy with --json: the engine events, reduced to steps and a summary. */
  private async operation(command: string, stack: string, extra: string[], timeoutSeconds: number) {
    const args = [command, "--stack", stack, "--yes", "--skip-preview", "--json", ...extra];
    const result = await this.pulumi(args, timeoutSeconds);
    const { steps, outcomes, changeSummary, errors, timings } = engineEvents(result.stdout);
    if (result.status !== 0) {
      throw new CommandError(
        `${describeFailure(result, 40, { stdout: false })}${errors.length ? `\nengine errors:\n  ${errors.join("\n  ")}` : ""}`,
        result,
      );
    }
    return { steps, outcomes, changeSummary, run: result, timings };
  }

  up(stack: string): Promise<OperationResult> {
    return this.operation("up", stack, [], 1800);
  }

  refresh(stack: string, options: { expectNoChanges?: boolean } = {}): Promise<OperationResult> {
    return this.operation("refresh", stack, options.expectNoChanges ? ["--expect-no-changes"] : [], 900);
  }

  destroy(stack: string): Promise<OperationResult> {
    return this.operation("destroy", stack, [], 1800);
  }

  async removeStack(stack: string): Promise<void> {
    await this.pulumiOk(["stack", "rm", stack, "--yes"], 120);
  }

  /** The stack's resources from its state (`pulumi stack export`). */
  async state(stack: string): Promise<StateResource[]> {
    const result = await this.pulumiOk(["stack", "export", "--stack", stack], 120);
    const deployment = (JSON.parse(result.stdout) as { deployment?: { resources?: Json[] } }).deployment;
    return (deployment?.resources ?? []).map((r) => ({
      urn: String(r.urn),
      type: String(r.type),
      ...(typeof r.id === "string" && r.id ? { id: r.id } : {}),
      custom: Boolean(r.custom),
      external: Boolean(r.external),
      inputs: (r.inputs as Json | undefined) ?? {},
      outputs: (r.outputs as Json | undefined) ?? {},
    }));
  }

  async outputs(stack: string): Promise<Json> {
    const result = await this.pulumiOk(["stack", "output", "--stack", stack, "--json"], 120);
    return JSON.parse(result.stdout) as Json;
  }
}

/** Resource counts by type (the stack resource itself left out). */
export function countByType(resources: readonly { type: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    counts[r.type] = (counts[r.type] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
