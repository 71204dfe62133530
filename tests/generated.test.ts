import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { configKeys } from "../stacks/keys";
import { parseStackConfig } from "../stacks/load";
import { encodeConfigValue } from "../stacks/stackFile";
import { declarable, projectFile, withReadmeTable } from "../tools/generated";
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

  it("the README's configuration table lists every key", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toBe(withReadmeTable(readme));
    for (const name of Object.keys(configKeys)) expect(readme).toContain(`| \`${name}\` |`);
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
