/**
 * `npm run plan:diff -- <before> <after>`: what a change does to a stack's graph, from two offline
 * plans (`npm run plan -- --stack <s> --out <dir>`). A resource's URN is its type, name and parent:
 * one that appears or disappears is a create or a delete (a replacement on a real cloud, unless an
 * alias covers it). For resources in both, it names the inputs, dependencies and options that
 * changed. Exits 1 when any resource would be created, deleted or replaced by the change.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { RecordedResource } from "./mocks";

export interface PlanDiff {
  /** URNs only in the second plan, and only in the first. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** URN → what differs: input names, "dependsOn", "dependencies" (the order the engine follows), "options", "provider", "secretInputs". */
  readonly changed: Readonly<Record<string, readonly string[]>>;
}

/** The parts of a URN a plan knows: the type, the parent chain and the name. */
export function urnOf(resource: RecordedResource, byKey: ReadonlyMap<string, RecordedResource>): string {
  const chain: string[] = [];
  for (let parent = resource.parent; parent; parent = byKey.get(parent)?.parent) {
    chain.unshift(byKey.get(parent)?.type ?? parent);
  }
  return `${[...chain, resource.type].join("$")}::${resource.name}`;
}

function byUrn(resources: readonly RecordedResource[]): Map<string, RecordedResource> {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  return new Map(resources.map((r) => [urnOf(r, byKey), r]));
}

export function diffPlans(before: readonly RecordedResource[], after: readonly RecordedResource[]): PlanDiff {
  const old = byUrn(before);
  const now = byUrn(after);
  const changed: Record<string, string[]> = {};
  for (const [urn, was] of old) {
    const is = now.get(urn);
    if (!is) continue;
    const fields = [...new Set([...Object.keys(was.inputs), ...Object.keys(is.inputs)])]
      .filter((name) => !isDeepStrictEqual(was.inputs[name], is.inputs[name]))
      .sort();
    for (const field of ["dependsOn", "dependencies", "options", "provider", "secretInputs"] as const) {
      const a = field === "dependsOn" || field === "dependencies" ? [...(was[field] ?? [])].sort() : was[field];
      const b = field === "dependsOn" || field === "dependencies" ? [...(is[field] ?? [])].sort() : is[field];
      if (!isDeepStrictEqual(a, b)) fields.push(field);
    }
    if (fields.length > 0) changed[urn] = fields;
  }
  return {
    added: [...now.keys()].filter((urn) => !old.has(urn)).sort(),
    removed: [...old.keys()].filter((urn) => !now.has(urn)).sort(),
    changed,
  };
}

function readPlan(dir: string): RecordedResource[] {
  return JSON.parse(readFileSync(path.join(dir, "resources.json"), "utf8")) as RecordedResource[];
}

if (require.main === module) {
  const [before, after] = process.argv.slice(2);
  if (!before || !after) {
    process.stderr.write("usage: npm run plan:diff -- <plan dir before> <plan dir after>\n");
    process.exit(2);
  }
  const diff = diffPlans(readPlan(before), readPlan(after));
  const lines = [
    ...diff.removed.map((urn) => `- ${urn}`),
    ...diff.added.map((urn) => `+ ${urn}`),
    ...Object.entries(diff.changed).map(([urn, fields]) => `~ ${urn}: ${fields.join(", ")}`),
  ];
  process.stdout.write(lines.length > 0 ? `${lines.join("\n")}\n` : "no change\n");
  process.stdout.write(
    `${diff.added.length} created, ${diff.removed.length} deleted, ${Object.keys(diff.changed).length} updated\n`,
  );
  process.exit(diff.added.length + diff.removed.length > 0 ? 1 : 0);
}
