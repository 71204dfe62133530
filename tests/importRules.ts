/**
 * The repository's import rules as code (tests/architecture.test.ts runs them over every file):
 *
 *   lib/          pins, CIDR math, shared conventions: imports nothing of the project
 *   stacks/       configuration: imports only stacks/ and lib/
 *   components/   layers and their pure renderers: never stacks/ nor the composition root
 *   components/platform/   the composition root: the only place that reads the stack config
 *   index.ts      the program: the composition root and the config loader
 *   the program (all of the above) never imports tools/, tests/, e2e/, policy/ or examples/
 *   policy/       a project of its own (published as a pack): nothing outside policy/
 *   examples/consumer/     a project of its own: nothing of the platform but the contract's types
 *   renderers     files under components/ with no ComponentResource: Pulumi's types only, never its runtime
 */
import * as path from "node:path";

export interface ImportEdge {
  readonly from: string;
  /** Repository-relative path (no extension) for a file of the project, the package name otherwise. */
  readonly to: string;
  readonly internal: boolean;
  readonly typeOnly: boolean;
}

const SPECIFIER =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"`;]*?\s+from\s+)?["']([^"']+)["']|require\(\s*["']([^"']+)["']\s*\)|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every import, export-from, require() and import() of a TypeScript source (a repository-relative path). */
export function importsOf(file: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    if (!specifier) continue;
    const internal = specifier.startsWith(".");
    const to = internal ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : specifier;
    edges.push({ from: file, to, internal, typeOnly: Boolean(match[2]) });
  }
  return edges;
}

const under = (folder: string) => (file: string) => file === folder || file.startsWith(`${folder}/`);
const isLib = under("lib");
const isStacks = under("stacks");
const isRoot = under("components/platform");
const isComponent = (file: string) => under("components")(file) && !isRoot(file);
const isProgram = (file: string) =>
  /^index(\.ts)?$/.test(file) || isLib(file) || isStacks(file) || under("components")(file);
const isOutsideProgram = (file: string) => /^(tools|tests|e2e|policy|examples)(\/|$)/.test(file);

/** Helpers outside a component class that create resources for the components (one way to install a chart). */
const WIRING_HELPERS = new Set(["components/charts"]);

/**
 * Wiring lives in ComponentResource classes (and the composition root, and the declared helpers);
 * every other file under components/ is a pure renderer of data.
 */
export function isRenderer(file: string, source: string): boolean {
  return isComponent(file) && !WIRING_HELPERS.has(file) && !/extends\s+pulumi\.ComponentResource\b/.test(source);
}

/** The rules above, as messages naming the file, what it imports and why it may not. */
export function ruleViolations(edges: readonly ImportEdge[], sources: ReadonlyMap<string, string>): string[] {
  const violations: string[] = [];
  for (const { from, to, internal, typeOnly } of edges) {
    const say = (why: string) => violations.push(`${from} imports ${to}: ${why}`);
    if (!internal) {
      if (to.startsWith("@pulumi/") && !typeOnly && isRenderer(from, sources.get(from) ?? ""))
        say("a renderer (no ComponentResource in it) takes Pulumi's types only, never its runtime");
      continue;
    }
    if (isLib(from) && !isLib(to)) say("lib/ imports nothing of the project");
    if (isStacks(from) && !isStacks(to) && !isLib(to)) say("configuration imports only stacks/ and lib/");
    if (isComponent(from) && (isStacks(to) || isRoot(to)))
      say("a layer gets typed settings from the composition root, never the stack config");
    if (isProgram(from) && isOutsideProgram(to))
      say("the program never imports tooling, tests, e2e, policy or examples");
    if (under("policy")(from) && !under("policy")(to)) say("the policy pack is a project of its own");
    if (
      under("examples/consumer")(from) &&
      !under("examples/consumer")(to) &&
      !(to === "components/platform/contract" && typeOnly)
    )
      say("the consumer example takes nothing of the platform but the contract's types");
  }
  return violations;
}
