import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT } from "./harness";

const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");

function plan(...args: string[]) {
  return spawnSync(tsx, ["tools/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
}

describe("npm run plan", () => {
  it("prints the tree, the counts, the quota use and the config in effect, and writes the artifacts", () => {
    const out = mkdtempSync(path.join(tmpdir(), "plan-"));
    const flavors = path.join(out, "flavors.json");
    // The shape of `openstack flavor list --long -f json`; sizes unlike the assumed m1.* ones.
    writeFileSync(
      flavors,
      JSON.stringify([
        { ID: "3", Name: "m1.medium", RAM: 6144, Disk: 40, Ephemeral: 0, VCPUs: 3, "Is Public": true },
        { ID: "4", Name: "m1.large", RAM: 12288, Disk: 80, Ephemeral: 0, VCPUs: 6, "Is Public": true },
      ]),
    );
    const result = plan("--stack", "dev", "--out", path.join(out, "plan"), "--flavors", flavors);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Plan for stack "dev"/);
    expect(result.stdout).toMatch(/\+ openstack:networking\/network:Network {2}mesh-dev-network/);
    expect(result.stdout).toMatch(/Counts by type:[\s\S]*openstack:networking\/secGroupRule:SecGroupRule/);
    expect(result.stdout).toMatch(/adminCidrs = \["203\.0\.113\.0\/24"\]/);
    const resources = JSON.parse(readFileSync(path.join(out, "plan", "resources.json"), "utf8")) as { type: string }[];
    expect(resources.some((r) => r.type === "openstack:networking/subnet:Subnet")).toBe(true);
    expect(existsSync(path.join(out, "plan", "config.json"))).toBe(true);
    // What the stack takes from the project's quotas, vCPU and RAM by the flavor sizes given.
    expect(result.stdout).toMatch(/Quota use[\s\S]*compute +cores +15$/m);
    expect(result.stdout).toMatch(/instances by flavor: 2 × m1\.large \(6 vCPU, 12288 MiB\), 1 × m1\.medium/);
    const quota = JSON.parse(readFileSync(path.join(out, "plan", "quota.json"), "utf8")) as {
      quotas: { quota: string; total: number }[];
    };
    const totals = Object.fromEntries(quota.quotas.map((q) => [q.quota, q.total]));
    expect(totals).toMatchObject({ instances: 3, cores: 15, ram: 30720, "floating-ips": 2, load_balancer: 1 });
  });

  it("plans a bring-your-own network stack (the existing subnet is taken to be nodeCidr offline)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-byo-"));
    const stackFile = path.join(dir, "Pulumi.byo.yaml");
    writeFileSync(
      stackFile,
      [
        "config:",
        "  istio-openstack:environment: dev",
        "  istio-openstack:clusterMode: openstack-only",
        "  istio-openstack:adminCidrs: ['203.0.113.0/24']",
        "  istio-openstack:networkMode: existing",
        "  istio-openstack:existingNetworkId: 1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
        "  istio-openstack:existingSubnetId: 5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
        "  istio-openstack:existingRouterId: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        "",
      ].join("\n"),
    );
    const result = plan("--stack", "byo", "--stack-file", stackFile, "--out", path.join(dir, "out"));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/openstack:networking\/network:Network/);
    expect(result.stdout).toMatch(/openstack:compute\/instance:Instance/);
  });

  it("takes the stack from the stack file's name: Pulumi.prod.yaml evaluates as prod, not as the default dev", () => {
    const { parseArgs } = require("../tools/plan") as typeof import("../tools/plan");
    expect(parseArgs(["--stack-file", "/somewhere/Pulumi.prod.yaml"]).stack).toBe("prod");
    expect(parseArgs(["--stack-file", "Pulumi.team-a.yaml", "--stack", "team-a"]).stack).toBe("team-a");
    expect(parseArgs([]).stack).toBe("dev");
    expect(() => parseArgs(["--stack-file", "prod-config.yaml"])).toThrow(/cannot tell the stack .* add --stack/);
  });

  it("refuses a key without a namespace, which the program would never read", async () => {
    const { evaluateStack } = require("../tools/plan") as typeof import("../tools/plan");
    const dir = mkdtempSync(path.join(tmpdir(), "plan-bare-"));
    const stackFile = path.join(dir, "Pulumi.dev.yaml");
    writeFileSync(stackFile, `${readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")}\n  controlPlaneCount: 3\n`);
    await expect(evaluateStack("dev", stackFile)).rejects.toThrow(
      /- controlPlaneCount: a key without a namespace is never read; did you mean istio-openstack:controlPlaneCount\?/,
    );
  });

  it("plans a stack whose secrets are encrypted (secure:), leaving their values to the engine to judge", () => {
    // The values cannot be decrypted offline; kialiSigningKey's 16/24/32-byte rule must not refuse
    // the stand-in text the plan sees instead (found by npm run e2e:kubernetes).
    const dir = mkdtempSync(path.join(tmpdir(), "plan-secure-"));
    const stackFile = path.join(dir, "Pulumi.existing.yaml");
    const secure = (key: string) => [`  istio-openstack:${key}:`, "    secure: v1:c2FsdA==:Y2lwaGVydGV4dA=="];
    writeFileSync(
      stackFile,
      [
        "config:",
        "  istio-openstack:environment: prod",
        "  istio-openstack:clusterMode: existing",
        "  istio-openstack:adminCidrs: ['203.0.113.0/24']",
        ...secure("existingKubeconfig"),
        ...secure("grafanaAdminPassword"),
        ...secure("kialiSigningKey"),
        "",
      ].join("\n"),
    );
    const result = plan("--stack", "existing", "--stack-file", stackFile, "--out", path.join(dir, "out"));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/kubernetes:helm.sh\/v3:Release/);
    // Both secrets given: nothing of @pulumi/random in the graph.
    expect(result.stdout).not.toMatch(/random:index/);
  });

  it("exits 1 with the validation message on bad config, and registers nothing", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-bad-"));
    const stackFile = path.join(dir, "Pulumi.broken.yaml");
    writeFileSync(
      stackFile,
      "config:\n  istio-openstack:environment: prod\n  istio-openstack:adminCidrs: ['0.0.0.0/0']\n  istio-openstack:controlPlaneCount: 2\n",
    );
    const result = plan("--stack", "broken", "--stack-file", stackFile, "--out", path.join(dir, "out"));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/istio-openstack:adminCidrs\[0\]: opens the Kubernetes API/);
    expect(result.stderr).toMatch(/istio-openstack:controlPlaneCount: expected 1, 3 or 5/);
    expect(result.stdout).toBe("");
    expect(existsSync(path.join(dir, "out"))).toBe(false);
  });
});
