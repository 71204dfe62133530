/**
 * Timing of each step of a real-engine ring (`e2e:openstack`, `e2e:kubernetes`): a table on stdout
 * and JSON in the ring's work directory; `log` prefixes its lines with the ring's name.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
  readonly status: "passed" | "failed";
  readonly note?: string;
}

/** A step's resources of one type: how many, and the engine's seconds over them (whole-second events). */
export interface TypeTiming {
  readonly type: string;
  readonly op: string;
  readonly count: number;
  readonly totalSeconds: number;
  readonly maxSeconds: number;
}

/** Per resource type and operation, in type order. */
export function byType(timings: readonly { type: string; op: string; seconds: number }[]): TypeTiming[] {
  const groups = new Map<string, TypeTiming>();
  for (const t of timings) {
    const key = `${t.type} ${t.op}`;
    const was = groups.get(key) ?? { type: t.type, op: t.op, count: 0, totalSeconds: 0, maxSeconds: 0 };
    groups.set(key, {
      ...was,
      count: was.count + 1,
      totalSeconds: was.totalSeconds + t.seconds,
      maxSeconds: Math.max(was.maxSeconds, t.seconds),
    });
  }
  return [...groups.values()].sort((a, b) => a.type.localeCompare(b.type) || a.op.localeCompare(b.op));
}

export class Bench {
  readonly steps: StepTiming[] = [];
  readonly startedAt = new Date();
  /** Per step (e.g. "up (create)"): what the engine spent per resource type. */
  readonly resourceTypes: { step: string; types: TypeTiming[] }[] = [];

  /** Records the engine's per-resource timings of one operation, by type. */
  recordTypes(step: string, timings: readonly { type: string; op: string; seconds: number }[]): void {
    this.resourceTypes.push({ step, types: byType(timings) });
  }

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
      ...this.resourceTypes.flatMap(({ step, types }) => [
        "",
        `${step}, per resource type (engine event timestamps, whole seconds):`,
        `  ${"type".padEnd(62)}  ${"op".padEnd(7)}  count  total s  max s`,
        ...types.map(
          (t) =>
            `  ${t.type.padEnd(62)}  ${t.op.padEnd(7)}  ${String(t.count).padStart(5)}  ${String(t.totalSeconds).padStart(7)}  ${String(t.maxSeconds).padStart(5)}`,
        ),
      ]),
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
      resourceTypes: this.resourceTypes,
    };
    const text = `${JSON.stringify(document, null, 2)}\n`;
    const latest = path.join(dir, "bench.json");
    writeFileSync(latest, text);
    writeFileSync(path.join(runsDir, `${this.startedAt.toISOString().replace(/[:.]/g, "-")}.json`), text);
    return latest;
  }
}

let ringName = "e2e";

/** Names the ring in every log line (set once by the ring's entry point). */
export function setRingName(name: string): void {
  ringName = name;
}

export function log(message: string): void {
  process.stdout.write(`[${ringName} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
