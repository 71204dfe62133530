// The import rules of tests/importRules.ts hold for every file, and each rule is seen to bite.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "./harness";
import { importsOf, ruleViolations } from "./importRules";

const SKIP = new Set(["node_modules", ".git", "plan", "bench", ".e2e", ".work"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return sourceFiles(rel);
    return /\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [rel] : [];
  });
}

describe("the import rules", () => {
  const files = sourceFiles("");
  const sources = new Map(
    files.map((f) => [f.replace(/\.(ts|mts|mjs|js)$/, ""), readFileSync(path.join(ROOT, f), "utf8")]),
  );
  const edges = [...sources].flatMap(([file, source]) => importsOf(file, source));

  it("hold for every file of the repository", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.internal).length).toBeGreaterThan(100);
    expect(ruleViolations(edges, sources)).toEqual([]);
  });

  it("see the imports of every kind a source can have", () => {
    const source = [
      'import * as a from "../../lib/a";',
      'import type { B } from "./b";',
      'export { c } from "../../stacks/c";',
      'const d = require("../../tools/d");',
      'const e = await import("@pulumi/pulumi");',
      'import {\n  f,\n  g,\n} from "./fg";',
    ].join("\n");
    expect(importsOf("components/x/y", source).map((e) => [e.to, e.internal, e.typeOnly])).toEqual([
      ["lib/a", true, false],
      ["components/x/b", true, true],
      ["stacks/c", true, false],
      ["tools/d", true, false],
      ["@pulumi/pulumi", false, false],
      ["components/x/fg", true, false],
    ]);
  });

  it("are broken by the imports they forbid, each named", () => {
    const renderer = "export const x = 1;";
    const wiring = "class A extends pulumi.ComponentResource {}";
    const edge = (from: string, to: string, typeOnly = false) => ({
      from,
      to,
      internal: !to.startsWith("@"),
      typeOnly,
    });
    const violations = ruleViolations(
      [
        edge("lib/cidr", "stacks/types"),
        edge("stacks/keys/mesh", "components/mesh/values"),
        edge("components/mesh/values", "stacks/keys/mesh", true),
        edge("components/observability/x", "components/platform/mesh"),
        edge("components/charts", "e2e/lib/proc"),
        edge("index", "tools/mocks"),
        edge("policy/helm", "lib/versions"),
        edge("examples/consumer/src/platform", "components/platform/outputs", true),
        edge("components/network/rules", "@pulumi/openstack"),
        // allowed: a renderer's type import, a component's runtime import, the root reading config
        edge("components/network/rules", "@pulumi/openstack", true),
        edge("components/network/clusterNetwork", "@pulumi/openstack"),
        edge("components/platform/index", "stacks/load"),
        edge("examples/consumer/src/platform", "components/platform/contract", true),
      ],
      new Map([
        ["components/network/rules", renderer],
        ["components/network/clusterNetwork", wiring],
      ]),
    );
    expect(violations.map((v) => v.split(":")[0])).toEqual([
      "lib/cidr imports stacks/types",
      "stacks/keys/mesh imports components/mesh/values",
      "components/mesh/values imports stacks/keys/mesh",
      "components/observability/x imports components/platform/mesh",
      "components/charts imports e2e/lib/proc",
      "index imports tools/mocks",
      "policy/helm imports lib/versions",
      "examples/consumer/src/platform imports components/platform/outputs",
      "components/network/rules imports @pulumi/openstack",
    ]);
  });
});
