/**
 * Regressions found by the real-binary ring (npm run e2e:bootstrap), pinned here under mocks so they
 * stay fixed without kubeadm or an API server: what kubeadm join reads, the readiness gate's
 * loopback/jump-host route, and the mock engine's fresh-key mode the ring relies on.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { parseAllDocuments } from "yaml";
import { bootstrapScript } from "../components/cluster/bootstrap/cloudInit";
import { type ClusterShape, initDocuments, joinDocuments } from "../components/cluster/bootstrap/kubeadm";
import { deterministicEcKey, selfSignedCert } from "../tools/mocks/pki";
import { PROJECT } from "./harness";

const shape: ClusterShape = {
  clusterName: "c",
  kubernetesVersion: "1.36.3",
  endpointAddress: "198.51.100.7",
  extraCertSans: [],
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
};
const node = { name: "n", address: "10.20.0.5", labels: {} };
const join = { token: "abcdef.0123456789abcdef", caCertHash: `sha256:${"0".repeat(64)}` };
const kinds = (text: string) => parseAllDocuments(text).map((d) => d.get("kind"));

describe("kubeadm documents", () => {
  it("a join config is one JoinConfiguration: kubeadm join ignores (and warns about) a KubeletConfiguration", () => {
    expect(kinds(joinDocuments(shape, node, join, false))).toEqual(["JoinConfiguration"]);
    expect(kinds(joinDocuments(shape, node, join, true))).toEqual(["JoinConfiguration"]);
  });

  it("the init config carries the cluster-wide KubeletConfiguration that joining kubelets download", () => {
    expect(kinds(initDocuments(shape, node, join, 120))).toEqual([
      "InitConfiguration",
      "ClusterConfiguration",
      "KubeletConfiguration",
    ]);
  });
});

describe("the readiness gate behind a tunnel (API_CONNECT_TO)", () => {
  let server: Server;
  let port: number;
  const key = deterministicEcKey("readyz-gate-test");
  const cert = selfSignedCert({
    privateKeyPem: key.privateKeyPem,
    subject: { commonName: "kube-apiserver" },
    isCaCertificate: true,
    validityPeriodHours: 24,
    allowedUses: ["cert_signing", "digital_signature", "server_auth"],
    ipAddresses: [shape.endpointAddress],
  });

  beforeAll(async () => {
    server = createServer({ key: key.privateKeyPem, cert }, (request, response) => {
      response.end(request.url === "/readyz" ? "ok" : "not found");
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  const gate = (env: Record<string, string>) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        "/bin/bash",
        ["-c", bootstrapScript("readyz-wait.sh")],
        {
          env: { PATH: process.env.PATH ?? "", CA_PEM: cert, TIMEOUT_SECONDS: "5", POLL_SECONDS: "1", ...env },
          timeout: 15_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });

  it("connects to API_CONNECT_TO and still verifies the certificate for API_ENDPOINT", async () => {
    expect(new X509Certificate(cert).subjectAltName).toBe(`IP Address:${shape.endpointAddress}`);
    const result = await gate({ API_ENDPOINT: shape.endpointAddress, API_CONNECT_TO: `127.0.0.1:${port}` });
    expect(result).toEqual({
      code: 0,
      output: expect.stringContaining(
        `ready at https://198.51.100.7:6443/readyz (connecting through 127.0.0.1:${port})`,
      ),
    });
  });

  it("refuses a server whose certificate is not made for API_ENDPOINT (the check can fail)", async () => {
    const result = await gate({
      API_ENDPOINT: "198.51.100.8",
      API_CONNECT_TO: `127.0.0.1:${port}`,
      TIMEOUT_SECONDS: "1",
    });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/not ready after 1 s .*last error: curl: \(60\)/s);
  });
});

describe("the mock engine's key material", () => {
  async function clusterCa(keySalt?: string): Promise<{ ca: string; token: string }> {
    let result: { ca: string; token: string } | undefined;
    await jest.isolateModulesAsync(async () => {
      const { runUnderMocks } = require("../tools/mocks") as typeof import("../tools/mocks");
      const { ClusterPki } = require("../components/cluster/pki") as typeof import("../components/cluster/pki");
      const run = await runUnderMocks(
        () => {
          const pki = new ClusterPki("c-pki", { clusterName: "c", nodeNames: ["c-control-plane-0"] });
          return { ca: pki.clusterCa.certPem, token: pki.bootstrapToken };
        },
        { project: PROJECT, stack: "test", config: {}, ...(keySalt ? { keySalt } : {}) },
      );
      result = run.outputs as { ca: string; token: string };
    });
    if (!result) throw new Error("no run");
    return result;
  }
  const publicKey = (pem: string) => new X509Certificate(pem).publicKey.export({ type: "spki", format: "pem" });

  it("is stable by default (name-derived) and fresh with a random salt, as the tls and random providers make it", async () => {
    const { freshKeySalt } = await import("../tools/mocks");
    const [stable1, stable2, fresh1, fresh2] = [
      await clusterCa(),
      await clusterCa(),
      await clusterCa(freshKeySalt()),
      await clusterCa(freshKeySalt()),
    ];
    expect(publicKey(stable1.ca)).toBe(publicKey(stable2.ca));
    expect(stable1.token).toBe(stable2.token);
    expect(publicKey(stable1.ca)).toBe(deterministicEcKey("c-pki-ca").publicKeyPem);
    expect(new Set([stable1, fresh1, fresh2].map((r) => publicKey(r.ca))).size).toBe(3);
    expect(new Set([stable1, fresh1, fresh2].map((r) => r.token)).size).toBe(3);
    expect(fresh1.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  }, 60_000);
});
