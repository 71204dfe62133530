import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { configKeys } from "../stacks/keys";
import { projectFile, withReadmeTable } from "../tools/generated";
import { ROOT } from "./harness";

describe("generated files are up to date (run `npm run gen` when this fails)", () => {
  it("Pulumi.yaml declares every key the program reads, with type and description", () => {
    const committed = readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
    expect(committed).toBe(projectFile());
    const declared = (parseYaml(committed) as { config: Record<string, { type: string; description: string }> }).config;
    expect(Object.keys(declared).sort()).toEqual(
      Object.keys(configKeys)
        .map((k) => `istio-openstack:${k}`)
        .sort(),
    );
    for (const declaration of Object.values(declared)) {
      expect(["string", "integer", "boolean", "array"]).toContain(declaration.type);
      expect(declaration.description.length).toBeGreaterThan(20);
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
