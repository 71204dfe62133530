import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { configKeys } from "../stacks/keys";
import { projectFile, requiredEverywhere, withReadmeTable } from "../tools/generated";
import { ROOT } from "./harness";

describe("generated files are up to date (run `npm run gen` when this fails)", () => {
  it("Pulumi.yaml declares exactly the keys every stack must set, with type and description", () => {
    const committed = readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
    expect(committed).toBe(projectFile());
    const declared = (parseYaml(committed) as { config: Record<string, { type: string; description: string }> }).config;
    expect(Object.keys(declared).sort()).toEqual(
      Object.entries(configKeys)
        .filter(([, spec]) => requiredEverywhere(spec))
        .map(([k]) => `istio-openstack:${k}`)
        .sort(),
    );
    expect(Object.keys(declared)).toContain("istio-openstack:adminCidrs");
    for (const declaration of Object.values(declared)) {
      expect(["string", "integer", "boolean", "array"]).toContain(declaration.type);
      expect(declaration.description.length).toBeGreaterThan(20);
    }
  });

  // Regression (found by npm run e2e:openstack): the Pulumi CLI refuses a stack that lacks a declared
  // key without a default, before the program runs. Every committed stack and the smallest valid
  // stack must pass that check, and no declaration may carry a default that would override stacks/keys.
  it("the Pulumi CLI's required-key check passes for every stack, including a minimal one", () => {
    const declared = (
      parseYaml(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default?: unknown; value?: unknown }>;
      }
    ).config;
    for (const declaration of Object.values(declared)) {
      expect(declaration.default).toBeUndefined();
      expect(declaration.value).toBeUndefined();
    }
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
    for (const config of stacks) {
      const missing = Object.keys(declared).filter((key) => !(key in config));
      expect(missing).toEqual([]);
    }
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
