/**
 * The join token: valid only during a join window that `kubeadm init` opens for the nodes created
 * with the cluster and `pulumi up` opens again whenever a node instance is created or replaced; a
 * new token whenever the set of nodes changes; never printed to the console. The bootstrap ring
 * (npm run e2e:bootstrap, step "join window: mint, revoke") runs the same script against the real
 * API server and kubeadm.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { initFlagsOf, tokenExpiry, tokensIn, windowProblem } from "../e2e/bootstrap/joinWindow";
import { fakeId } from "../tools/mocks/cloud";
import { type Evaluation, evaluateStack, ROOT } from "./harness";

const COMMAND = "command:local:Command";
const INSTANCE = "openstack:compute/instance:Instance";

interface CloudConfig {
  write_files: { path: string; content: string }[];
}
const fileOf = (userData: string, file: string) =>
  (parseYaml(userData) as CloudConfig).write_files.find((f) => f.path === file)?.content ?? "";
const documents = (yaml: string) => yaml.split("---\n").map((d) => parseYaml(d) as Record<string, unknown>);

describe.each(["dev", "prod"])("the %s stack's join window", (stack) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack, { joinTokenTtlMinutes: 90 });
  });
  const window = () => run.one(COMMAND, `mesh-${stack}-cluster-join-window`);

  it("kubeadm init registers the join token for the window only (never without expiry)", () => {
    const init = run.ofType(INSTANCE).find((i) => i.name.endsWith("control-plane-0"));
    const tokens = documents(fileOf(String(init?.inputs.userData), "/etc/kubernetes/bootstrap/init.yaml")).find(
      (d) => d.kind === "InitConfiguration",
    )?.bootstrapTokens as { token: string; ttl: string; groups: string[] }[];
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ ttl: "90m0s", groups: ["system:bootstrappers:kubeadm:default-node-token"] });
    // Every node joins with that same token.
    for (const node of run.ofType(INSTANCE)) {
      const join = documents(fileOf(String(node.inputs.userData), "/etc/kubernetes/bootstrap/join.yaml"))[0] as {
        discovery: { bootstrapToken: { token: string } };
      };
      expect(join.discovery.bootstrapToken.token).toBe(tokens[0].token);
    }
  });

  it("`pulumi up` opens a window after the readiness gate, again whenever an instance is created or replaced", () => {
    const command = window();
    expect(command.dependsOn).toContain(`${COMMAND}::mesh-${stack}-cluster-readyz`);
    const triggers = command.inputs.triggers as string[];
    const instanceIds = run.ofType(INSTANCE).map((i) => fakeId(INSTANCE, i.name));
    expect(triggers.slice(1).sort()).toEqual([...instanceIds].sort());
    expect(triggers[0]).toMatch(/^[a-z0-9]{6}$/); // the token id: a new token is a new window
    expect(command.inputs.create).toMatch(/^ACTION=mint\n#!\/usr\/bin\/env bash/);
    expect(command.inputs.delete).toMatch(/^ACTION=revoke\n/);
    expect((command.inputs.environment as Record<string, string>).TTL_SECONDS).toBe(String(90 * 60));
    // The old window is revoked before a replacement opens the new one (same token id otherwise undone).
    expect(command.options.deleteBeforeReplace).toBe(true);
  });

  it("the token and the admin key reach the script only as secret environment; its output stays secret", () => {
    const command = window();
    const environment = command.inputs.environment as Record<string, string>;
    expect(environment.TOKEN).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(environment.CLIENT_KEY_PEM).toMatch(/PRIVATE KEY/);
    expect(command.secretInputs).toContain("environment");
    expect(command.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    expect(tokensIn(String(command.inputs.create))).toEqual([]);
  });
});

describe("a new token whenever the set of nodes changes", () => {
  const keepersOf = async (overrides: Record<string, unknown>) => {
    const run = await evaluateStack("dev", overrides);
    return ["random:index/randomString:RandomString", "random:index/randomPassword:RandomPassword"].map(
      (type) => run.ofType(type).find((r) => /-pki-token-/.test(r.name))?.inputs.keepers,
    );
  };

  it("adding, removing or rolling nodes changes the token's keepers; an unrelated change does not", async () => {
    const pool = (extra: object = {}) => [{ name: "general", count: 2, flavor: "m1.large", ...extra }];
    const base = await keepersOf({ workerPools: pool() });
    expect(base[0]).toEqual(base[1]);
    expect(await keepersOf({ workerPools: pool(), readinessTimeoutSeconds: 1200 })).toEqual(base);
    for (const changed of [pool({ count: 3 }), pool({ count: 1 }), pool({ generation: 1 })]) {
      expect(await keepersOf({ workerPools: changed })).not.toEqual(base);
    }
  }, 120_000); // five evaluations of the program
});

describe("the join token never reaches the console", () => {
  const script = readFileSync(path.join(ROOT, "components/cluster/bootstrap/scripts/kubeadm-bootstrap.sh"), "utf8");

  it("kubeadm init runs with --skip-token-print (kubeadm prints the join command otherwise)", () => {
    expect(initFlagsOf(script)).toContain("--skip-token-print");
  });

  it("the join-token script never echoes the token's secret half", () => {
    const mint = readFileSync(path.join(ROOT, "components/cluster/bootstrap/scripts/join-token.sh"), "utf8");
    const echoes = mint
      .split("\n")
      .filter((l) => /\b(echo|log|printf)\b/.test(l) && /token_secret|\$\{?TOKEN\b/.test(l));
    expect(echoes).toEqual([]);
  });
});

describe("the ring's join-window checks can fail", () => {
  const list = [
    "TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION",
    "abcdef.0123456789abcdef   59m         2026-11-28T06:13:15Z   authentication,signing   node joins",
    "zyxwvu.0123456789abcdef   <forever>   <never>                authentication,signing   old",
  ].join("\n");

  it("reads a token's expiry from kubeadm token list", () => {
    expect(tokenExpiry(list, "abcdef")).toBe("2026-11-28T06:13:15Z");
    expect(tokenExpiry(list, "zyxwvu")).toBe("<never>");
    expect(tokenExpiry(list, "nothere")).toBeUndefined();
  });

  it("refuses a token without expiry, a window of another length, and a missing token", () => {
    const now = Date.parse("2026-11-28T05:13:15Z");
    expect(windowProblem("2026-11-28T06:13:15Z", 60, now)).toBeUndefined();
    expect(windowProblem("2026-11-28T06:13:15Z", 120, now)).toMatch(/expires in 60\.0 min, the window is 120 min/);
    expect(windowProblem("<forever>", 60, now)).toMatch(/never expires/);
    expect(windowProblem(undefined, 60, now)).toMatch(/not listed/);
  });

  it("finds tokens in console output", () => {
    expect(tokensIn("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \\")).toEqual([
      "abcdef.0123456789abcdef",
    ]);
    expect(tokensIn("--token <value withheld>")).toEqual([]);
  });
});
