/**
 * `npm run bench [-- --runs N] [-- --stack S]`: two measures per stack, written to bench/.
 * - The offline evaluation (the same as `npm run plan`), each run in a fresh process so module
 *   loading counts as it does for a user: median and spread (bench/offline-plan.json).
 * - The critical path of `pulumi up`: the graph the evaluation recorded, weighted with the typical
 *   per-resource latencies of tools/latency.ts (sources there), scheduled as the engine runs it
 *   (tools/criticalPath.ts); with the serial sum, the chain itself, and the chain of unavoidable
 *   steps it is compared with (tools/unavoidable.ts, docs/performance.md) (bench/critical-path.json).
 * A benchmark, not a test: nothing here fails on a number.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { type CriticalPath, criticalPath, formatDuration } from "./criticalPath";
import { evaluateStack } from "./plan";
import { type UnavoidableStep, unavoidableChain } from "./unavoidable";

const root = path.resolve(__dirname, "..");
const STACKS = ["dev", "staging", "prod"];

interface ChildResult {
  readonly evaluationMs: number;
  readonly resources: number;
  readonly path: {
    readonly seconds: number;
    readonly serialSeconds: number;
    readonly unknown: readonly string[];
    readonly chain: readonly { label: string; start: number; finish: number; seconds: number; basis: string }[];
    readonly unavoidable: readonly UnavoidableStep[];
  };
}

async function child(stack: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { run } = await evaluateStack(stack);
  const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const path: CriticalPath = criticalPath(run.resources);
  const result: ChildResult = {
    evaluationMs,
    resources: run.resources.length,
    path: {
      seconds: path.seconds,
      serialSeconds: path.serialSeconds,
      unknown: path.unknown,
      chain: path.chain.map(({ label, start, finish, seconds, basis }) => ({ label, start, finish, seconds, basis })),
      unavoidable: unavoidableChain(run.resources),
    },
  };
  process.stdout.write(JSON.stringify(result));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const sum = (steps: readonly { seconds: number }[]) => steps.reduce((total, step) => total + step.seconds, 0);

function parent(runs: number, stacks: readonly string[]): void {
  const results = stacks.map((stack) => {
    const samples = Array.from({ length: runs }, () => {
      const started = process.hrtime.bigint();
      const output = execFileSync(process.execPath, [...process.execArgv, __filename, "--child", stack], {
        cwd: root,
        encoding: "utf8",
      });
      const processMs = Number(process.hrtime.bigint() - started) / 1e6;
      return { ...(JSON.parse(output) as ChildResult), processMs };
    });
    const evaluation = samples.map((s) => s.evaluationMs);
    const processTimes = samples.map((s) => s.processMs);
    return {
      stack,
      runs,
      resources: samples[0].resources,
      evaluationMedianMs: Math.round(median(evaluation)),
      evaluationMinMs: Math.round(Math.min(...evaluation)),
      evaluationMaxMs: Math.round(Math.max(...evaluation)),
      processMedianMs: Math.round(median(processTimes)),
      // The graph is deterministic: every sample has the same path.
      path: samples[0].path,
    };
  });
  const out: string[] = [
    `Offline evaluation (median of ${runs} runs each, fresh process per run):`,
    "stack     resources  evaluation median (min-max)   whole process median",
    ...results.map(
      (r) =>
        `${r.stack.padEnd(9)} ${String(r.resources).padStart(9)}  ${`${r.evaluationMedianMs} ms (${r.evaluationMinMs}-${r.evaluationMaxMs})`.padEnd(28)}  ${r.processMedianMs} ms`,
    ),
    "",
    "pulumi up under typical cloud latencies (tools/latency.ts):",
    "stack     critical path  serial sum  unavoidable chain  critical/unavoidable",
    ...results.map((r) => {
      const unavoidable = sum(r.path.unavoidable);
      return `${r.stack.padEnd(9)} ${formatDuration(r.path.seconds).padStart(13)}  ${formatDuration(r.path.serialSeconds).padStart(10)}  ${formatDuration(unavoidable).padStart(17)}  ${(r.path.seconds / unavoidable).toFixed(2).padStart(20)}`;
    }),
  ];
  for (const r of results) {
    out.push("", `${r.stack}: critical path, ${formatDuration(r.path.seconds)} (start → finish, seconds):`);
    for (const step of r.path.chain) {
      out.push(
        `  ${String(step.start).padStart(4)} → ${String(step.finish).padStart(4)}  ${`+${step.seconds}`.padStart(4)}  ${step.label}  (${step.basis})`,
      );
    }
    out.push(`${r.stack}: unavoidable chain, ${formatDuration(sum(r.path.unavoidable))}:`);
    for (const step of r.path.unavoidable) out.push(`  ${`+${step.seconds}`.padStart(4)}  ${step.label}: ${step.why}`);
    if (r.path.unknown.length > 0)
      out.push(`${r.stack}: not in the latency table (5 s each): ${r.path.unknown.join(", ")}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
  mkdirSync(path.join(root, "bench"), { recursive: true });
  const { offline, paths } = {
    offline: results.map(({ path: _path, ...timing }) => timing),
    paths: results.map((r) => ({ stack: r.stack, ...r.path })),
  };
  writeFileSync(path.join(root, "bench", "offline-plan.json"), `${JSON.stringify(offline, null, 2)}\n`);
  writeFileSync(path.join(root, "bench", "critical-path.json"), `${JSON.stringify(paths, null, 2)}\n`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  child(argv[1]).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
} else {
  const runsFlag = argv.indexOf("--runs");
  const stackFlag = argv.indexOf("--stack");
  parent(runsFlag >= 0 ? Number(argv[runsFlag + 1]) : 5, stackFlag >= 0 ? [argv[stackFlag + 1]] : STACKS);
}
