import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { configKeys, keyAreas } from "../stacks/keys";
import { parseStackConfig } from "../stacks/load";
import { encodeConfigValue } from "../stacks/stackFile";
import { declarable, projectFile, withConfigurationReference } from "../tools/generated";
import { ROOT, rawConfig } from "./harness";

describe("generated files are up to date (run `npm run gen` when this fails)", () => {
  type Declaration = { type: string; description: string; default?: unknown; value?: unknown };
  const declared = () =>
    (parseYaml(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, Declaration> }).config;

  it("Pulumi.yaml declares, with type and description, every key it can without overriding an environment's default", () => {
    expect(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).toBe(projectFile());
    const expected = Object.entries(configKeys)
      .filter(([, spec]) => declarable(spec))
      .map(([k]) => `istio-openstack:${k}`);
    expect(Object.keys(declared()).sort()).toEqual(expected.sort());
    expect(Object.keys(declared())).toEqual(
      expect.arrayContaining(["istio-openstack:adminCidrs", "istio-openstack:nodeCidr"]),
    );
    for (const declaration of Object.values(declared())) {
      expect(["string", "integer", "boolean", "array"]).toContain(declaration.type);
      expect(declaration.description.length).toBeGreaterThan(20);
      expect(declaration.value).toBeUndefined();
    }
    // A key whose default differs by environment must stay undeclared: a declared default would win.
    expect(Object.keys(declared())).not.toContain("istio-openstack:controlPlaneCount");
  });

  it("a default declared in Pulumi.yaml, as the CLI hands it over, gives the same config as leaving the key out", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const withoutDefaults = parseStackConfig(rawConfig(stack), stack);
      const projectDefaults = Object.fromEntries(
        Object.entries(declared())
          .filter(([, d]) => d.default !== undefined)
          .map(([k, d]) => [k.replace("istio-openstack:", ""), d.default]),
      );
      const stackValues = rawConfig(stack).values;
      const merged = { ...projectDefaults, ...Object.fromEntries(Object.entries(stackValues).map(([k, v]) => [k, v])) };
      expect(
        parseStackConfig(
          { values: Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, encodeConfigValue(v)])) },
          stack,
        ),
      ).toEqual(withoutDefaults);
    }
  });

  // Regression (found by npm run e2e:openstack): the Pulumi CLI refuses a stack that lacks a declared
  // key without a default, before the program runs. Every committed stack and the smallest valid
  // stack must pass that check.
  it("the Pulumi CLI's required-key check passes for every stack, including a minimal one", () => {
    const requiredKeys = Object.entries(declared())
      .filter(([, d]) => d.default === undefined)
      .map(([k]) => k);
    const minimal = { "istio-openstack:adminCidrs": ["203.0.113.0/24"], "istio-openstack:environment": "dev" };
    const stacks = [
      minimal,
      ...["dev", "staging", "prod"].map(
        (stack) =>
          (
            parseYaml(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
              config: Record<string, unknown>;
            }
          ).config,
      ),
    ];
    for (const config of stacks) expect(requiredKeys.filter((key) => !(key in config))).toEqual([]);
  });

  it("docs/configuration.md carries the current reference: every key once, with its area, default and secrecy", () => {
    const document = readFileSync(path.join(ROOT, "docs", "configuration.md"), "utf8");
    expect(document).toBe(withConfigurationReference(document));
    const rows = [...document.matchAll(/^\| `([A-Za-z]+)` \|.*\| (yes|no) \|.*\|$/gm)].map((m) => [m[1], m[2]]);
    // Every key of the registry in exactly one area: a key file missing from keyAreas would drop its keys.
    expect(rows.map(([name]) => name).sort()).toEqual(Object.keys(configKeys).sort());
    expect(keyAreas.flatMap((area) => Object.keys(area.keys)).sort()).toEqual(Object.keys(configKeys).sort());
    const secret = (name: string) => Boolean((configKeys as Record<string, { secret?: boolean }>)[name].secret);
    for (const [name, shown] of rows) expect([name, shown]).toEqual([name, secret(name) ? "yes" : "no"]);
    expect(rows).toContainEqual(["existingKubeconfig", "yes"]);
    // A per-environment default is shown per environment, not as one value.
    expect(document).toMatch(/\| `controlPlaneCount` \| integer \| dev: `1`<br>staging: `3`<br>prod: `3` \|/);
    expect(document).toMatch(/\| `adminCidrs` \| array \| \*\*required\*\* \|/);
  });

  it("the README sends readers to the reference", () => {
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("(docs/configuration.md)");
  });

  it("stack files only use declared keys of this project", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const file = parseYaml(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      };
      for (const key of Object.keys(file.config)) {
        const [namespace, name] = key.split(":");
        if (namespace === "istio-openstack") expect(Object.keys(configKeys)).toContain(name);
      }
    }
  });
});
