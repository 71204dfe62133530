/** Assertions of the real-engine rings: on the engine's own report (steps) and on what the APIs say. */
import { log } from "./bench";
import { sleep } from "./proc";
import type { OperationResult, Step } from "./pulumi";

/** A failed assertion (as opposed to a command that failed): the ring shows its message alone. */
export class AssertionError extends Error {}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${what}: expected ${e}, got ${a}`);
}

/** The steps that change something (a read looks a resource up again: no change). */
export const changed = (steps: readonly Step[]): Step[] => steps.filter((s) => s.op !== "same" && s.op !== "read");

/** Steps as sorted "op type name" text, for messages and exact comparisons. */
export const describe = (steps: readonly Step[]): string =>
  steps
    .map((s) => `${s.op} ${s.type} ${s.name}`)
    .sort()
    .join("; ") || "nothing";

export function assertNoChanges(result: OperationResult, what: string): void {
  const diff = changed(result.steps).filter((s) => s.op !== "refresh");
  assert(diff.length === 0, `${what}: expected no changes, engine reported: ${describe(diff)}`);
  // A read (Service.get and the like) is looked up again on every operation: not a change.
  const summary = Object.entries(result.changeSummary).filter(([op, n]) => !["same", "read"].includes(op) && n > 0);
  assert(
    summary.length === 0,
    `${what}: expected only unchanged resources, summary ${JSON.stringify(result.changeSummary)}`,
  );
}

/** Retries a check while an API catches up (load balancer status after an update, deletions). */
export async function eventually<T>(what: string, seconds: number, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await body();
    } catch (error) {
      if (!(error instanceof AssertionError) || Date.now() > deadline) throw error;
      log(`${what}: not yet (${error.message.slice(0, 160)}); retrying`);
      await sleep(5000);
    }
  }
}
