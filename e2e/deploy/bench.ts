/** Timing of each step of the run: a table on stdout and JSON in the work directory. */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
  readonly status: "passed" | "failed";
  readonly note?: string;
}

export class Bench {
  readonly steps: StepTiming[] = [];
  readonly startedAt = new Date();

  async time<T>(step: string, body: () => Promise<T>, note?: (value: T) => string): Promise<T> {
    const started = Date.now();
    log(`${step} ...`);
    try {
      const value = await body();
      const seconds = (Date.now() - started) / 1000;
      const text = note?.(value);
      this.steps.push({ step, seconds, status: "passed", ...(text ? { note: text } : {}) });
      log(`${step}: passed in ${seconds.toFixed(1)} s${text ? ` (${text})` : ""}`);
      return value;
    } catch (error) {
      this.steps.push({ step, seconds: (Date.now() - started) / 1000, status: "failed" });
      log(`${step}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      throw error;
    }
  }

  table(): string {
    const width = Math.max(...this.steps.map((s) => s.step.length), 10);
    const total = (Date.now() - this.startedAt.getTime()) / 1000;
    return [
      `${"step".padEnd(width)}  ${"seconds".padStart(8)}  status  note`,
      ...this.steps.map(
        (s) => `${s.step.padEnd(width)}  ${s.seconds.toFixed(1).padStart(8)}  ${s.status.padEnd(6)}  ${s.note ?? ""}`,
      ),
      `${"total (wall clock)".padEnd(width)}  ${total.toFixed(1).padStart(8)}`,
    ].join("\n");
  }

  /** Writes bench.json (latest) and runs/<start time>.json; returns the latest's path. */
  write(dir: string, extra: Record<string, unknown>): string {
    const runsDir = path.join(dir, "runs");
    mkdirSync(runsDir, { recursive: true });
    const document = {
      startedAt: this.startedAt.toISOString(),
      totalSeconds: (Date.now() - this.startedAt.getTime()) / 1000,
      ...extra,
      steps: this.steps,
    };
    const text = `${JSON.stringify(document, null, 2)}\n`;
    const latest = path.join(dir, "bench.json");
    writeFileSync(latest, text);
    writeFileSync(path.join(runsDir, `${this.startedAt.toISOString().replace(/[:.]/g, "-")}.json`), text);
    return latest;
  }
}

export function log(message: string): void {
  process.stdout.write(`[e2e:openstack ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
