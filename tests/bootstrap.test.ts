/**
 * The generated bootstrap checked by real tools: cloud-init's own schema validator, shellcheck,
 * openssl and Node's X.509 parser. Tools come from tools/install-validators.sh (run by `npm test`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type Evaluation, evaluateStack, ROOT } from "./harness";

const cloudInit = path.join(
  process.env.E2E_CACHE_DIR ?? path.join(homedir(), ".cache", "istio-openstack-e2e"),
  "cloud-init",
  "bin",
  "cloud-init",
);
const SCRIPTS = path.join(ROOT, "components", "cluster", "bootstrap", "scripts");

interface CloudConfig {
  write_files: { path: string; content: string; permissions: string }[];
  runcmd: string[][];
}

const userDataOf = (run: Evaluation) =>
  new Map(run.ofType("openstack:compute/instance:Instance").map((i) => [i.name, String(i.inputs.userData)]));
const filesOf = (userData: string) =>
  new Map((parseYaml(userData) as CloudConfig).write_files.map((f) => [f.path, f.content]));

function requireTool(file: string, hint: string): void {
  if (!existsSync(file)) throw new Error(`${file} is missing: ${hint}`);
}

describe.each(["dev", "prod"])("the %s stack's node bootstrap", (stack) => {
  let run: Evaluation;
  let dir: string;
  beforeAll(async () => {
    run = await evaluateStack(stack);
    dir = mkdtempSync(path.join(tmpdir(), `user-data-${stack}-`));
    for (const [name, userData] of userDataOf(run)) writeFileSync(path.join(dir, `${name}.yaml`), userData);
  });

  it("every node's user data passes the real `cloud-init schema`", () => {
    requireTool(cloudInit, "run `bash tools/install-validators.sh`");
    for (const file of readdirSync(dir)) {
      const result = spawnSync(cloudInit, ["schema", "--config-file", path.join(dir, file)], { encoding: "utf8" });
      expect({ file, status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({
        file,
        status: 0,
        output: `Valid cloud-config: ${path.join(dir, file)}`,
      });
    }
  });

  it("workers carry the CA certificate and a pinned token, never a private key", () => {
    for (const [name, userData] of userDataOf(run)) {
      const files = filesOf(userData);
      const join = parseYaml((files.get("/etc/kubernetes/bootstrap/join.yaml") ?? "").split("---\n")[0]) as {
        discovery: { bootstrapToken: { token: string; caCertHashes: string[]; apiServerEndpoint: string } };
      };
      expect(join.discovery.bootstrapToken.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe(`${(run.outputs.apiEndpoint as string).slice(8)}`);
      if (name.includes("control-plane")) {
        expect(userData).toContain("PRIVATE KEY");
      } else {
        expect(userData).not.toMatch(/PRIVATE KEY/);
        expect([...files.keys()].filter((p) => p.startsWith("/etc/kubernetes/pki/"))).toEqual([
          "/etc/kubernetes/pki/ca.crt",
        ]);
      }
    }
  });

  it("the join hash is the SHA-256 of the CA's public key info, as openssl computes it", () => {
    const [, userData] = [...userDataOf(run)][0];
    const files = filesOf(userData);
    const caPem = files.get("/etc/kubernetes/pki/ca.crt") ?? "";
    const caFile = path.join(dir, "ca.crt");
    writeFileSync(caFile, caPem);
    const publicKey = execFileSync("openssl", ["x509", "-in", caFile, "-noout", "-pubkey"]);
    const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "DER"], { input: publicKey });
    const digest = execFileSync("openssl", ["dgst", "-sha256", "-hex"], { input: der })
      .toString()
      .split("= ")[1]
      .trim();
    const join = files.get("/etc/kubernetes/bootstrap/join.yaml") ?? "";
    expect(join).toContain(`sha256:${digest}`);
  });

  it("the admin kubeconfig (a secret output) targets the endpoint and its client certificate chains to the cluster CA", () => {
    const kubeconfig = parseYaml(run.outputs.kubeconfig as string) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { "client-certificate-data": string } }[];
    };
    expect(kubeconfig.clusters[0].cluster.server).toBe(run.outputs.apiEndpoint);
    const ca = new X509Certificate(Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64"));
    const client = new X509Certificate(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64"));
    expect(ca.ca).toBe(true);
    expect(client.checkIssued(ca)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject).toContain("O=kubeadm:cluster-admins");
    // The CA the nodes receive is the same one the kubeconfig trusts.
    const [, userData] = [...userDataOf(run)][0];
    expect(new X509Certificate(filesOf(userData).get("/etc/kubernetes/pki/ca.crt") ?? "").fingerprint256).toBe(
      ca.fingerprint256,
    );
  });

  it("the API server certificate will carry the endpoint: kubeadm's controlPlaneEndpoint and certSANs", () => {
    const initNode = [...userDataOf(run)].find(([name]) => name.endsWith("control-plane-0"));
    const init = filesOf(initNode?.[1] ?? "").get("/etc/kubernetes/bootstrap/init.yaml") ?? "";
    const cluster = init
      .split("---\n")
      .map((d) => parseYaml(d) as { kind: string; controlPlaneEndpoint?: string; apiServer?: { certSANs: string[] } })
      .find((d) => d.kind === "ClusterConfiguration");
    const address = (run.outputs.apiEndpoint as string).replace(/^https:\/\/|:6443$/g, "");
    expect(cluster?.controlPlaneEndpoint).toBe(`${address}:6443`);
    expect(cluster?.apiServer?.certSANs).toContain(address);
  });
});

describe("bootstrap scripts", () => {
  it("pass shellcheck", () => {
    const scripts = readdirSync(SCRIPTS).map((f) => path.join(SCRIPTS, f));
    const result = spawnSync("shellcheck", ["--severity=style", ...scripts], { encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  it("shellcheck does find a broken script (the check can fail)", () => {
    const broken = path.join(mkdtempSync(path.join(tmpdir(), "sc-")), "broken.sh");
    writeFileSync(broken, "#!/usr/bin/env bash\nrm -rf $DIR/*\n");
    expect(spawnSync("shellcheck", [broken]).status).not.toBe(0);
  });

  it("cloud-init schema does refuse a broken document (the check can fail)", () => {
    requireTool(cloudInit, "run `bash tools/install-validators.sh`");
    const broken = path.join(mkdtempSync(path.join(tmpdir(), "ci-")), "broken.yaml");
    writeFileSync(broken, "#cloud-config\nwrite_files:\n  - path: /x\n    permissions: 644\n");
    const result = spawnSync(cloudInit, ["schema", "--config-file", broken], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/permissions: 644 is not of type 'string'/);
  });
});
