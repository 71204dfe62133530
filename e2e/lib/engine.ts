/**
 * The real Pulumi engine for a ring: e2e/toolchain/engine.sh builds or reuses the toolchain and
 * registers the resource plugins named, and its engine.env is read the way `source` would.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { run } from "./proc";

export interface Engine {
  /** The environment with the engine on PATH, PULUMI_HOME and the offline settings. */
  readonly env: NodeJS.ProcessEnv;
  /** engine.sh's step lines (tool, version, built|cached|path, seconds, directory). */
  readonly summary: string[];
}

/** `plugins`: the resource plugins to build and register (engine.sh's arguments; none = its default). */
export async function engine(repoRoot: string, plugins: readonly string[] = []): Promise<Engine> {
  const result = await run("bash", [path.join(repoRoot, "e2e/toolchain/engine.sh"), ...plugins], {
    cwd: repoRoot,
    timeoutSeconds: 3600,
    stream: true,
  });
  const lines = result.stdout.trim().split("\n");
  const envFile = lines[lines.length - 1];
  if (!existsSync(envFile)) throw new Error(`engine.sh did not name its engine.env (last line: ${envFile})`);
  const dump = await run("bash", ["-c", 'set -a; source "$1"; env -0', "engine-env", envFile], {
    timeoutSeconds: 60,
  });
  const env: NodeJS.ProcessEnv = {};
  for (const entry of dump.stdout.split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return { env, summary: lines.slice(0, -1) };
}

/** Whether engine.sh built anything in this run (the note of the ring's engine step). */
export const builtOrCached = (e: Engine): string => (e.summary.some((l) => /\bbuilt\b/.test(l)) ? "built" : "cached");
