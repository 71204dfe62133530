/**
 * `npm run bench [-- --runs N]`: times the offline evaluation of each stack (the same evaluation as
 * `npm run plan`), each run in a fresh process so module loading counts as it does for a user.
 * Prints the median and the spread; writes bench/offline-plan.json. A benchmark, not a test.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { evaluateStack } from "./plan";

const root = path.resolve(__dirname, "..");
const STACKS = ["dev", "staging", "prod"];

async function child(stack: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { run } = await evaluateStack(stack);
  const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ evaluationMs, resources: run.resources.length }));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function parent(runs: number): void {
  const results = STACKS.map((stack) => {
    const samples = Array.from({ length: runs }, () => {
      const started = process.hrtime.bigint();
      const output = execFileSync(process.execPath, [...process.execArgv, __filename, "--child", stack], {
        cwd: root,
        encoding: "utf8",
      });
      const processMs = Number(process.hrtime.bigint() - started) / 1e6;
      return { ...(JSON.parse(output) as { evaluationMs: number; resources: number }), processMs };
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
    };
  });
  process.stdout.write(`Offline evaluation (median of ${runs} runs each, fresh process per run):\n`);
  process.stdout.write("stack     resources  evaluation median (min-max)   whole process median\n");
  for (const r of results) {
    process.stdout.write(
      `${r.stack.padEnd(9)} ${String(r.resources).padStart(9)}  ${`${r.evaluationMedianMs} ms (${r.evaluationMinMs}-${r.evaluationMaxMs})`.padEnd(28)}  ${r.processMedianMs} ms\n`,
    );
  }
  mkdirSync(path.join(root, "bench"), { recursive: true });
  writeFileSync(path.join(root, "bench", "offline-plan.json"), `${JSON.stringify(results, null, 2)}\n`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  child(argv[1]).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
} else {
  const runsFlag = argv.indexOf("--runs");
  parent(runsFlag >= 0 ? Number(argv[runsFlag + 1]) : 5);
}
