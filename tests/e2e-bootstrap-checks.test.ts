/** The pure helpers of the real-binary bootstrap ring (e2e/bootstrap/checks.ts): they decide pass or fail there. */
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { renderKubeconfig } from "../components/cluster/kubeconfig";
import {
  clusterInfoSignedWith,
  discoveryHashIn,
  firstServiceIp,
  kubeadmDocuments,
  layOut,
  missingApiServerSans,
  redirectKubeconfig,
  withCertificatesDir,
} from "../e2e/bootstrap/checks";
import { CIS_FLAGS, checkAuditLog, checkFlags, type HardeningRing, PROBE_SECRET } from "../e2e/bootstrap/hardening";
import { acceptedByDryRun, crdFiles, namespacesFirst, programObjects } from "../e2e/bootstrap/objects";
import { deterministicEcKey, selfSignedCert } from "../tools/mocks/pki";
import { evaluateStack } from "./harness";

describe("e2e bootstrap checks", () => {
  it("finds the kubernetes Service IP of a service CIDR", () => {
    expect(firstServiceIp("10.96.0.0/12")).toBe("10.96.0.1");
    expect(firstServiceIp("172.30.0.0/16")).toBe("172.30.0.1");
  });

  it("reports each missing API server SAN with what the certificate has", () => {
    const key = deterministicEcKey("sans-test");
    const cert = selfSignedCert({
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: "kube-apiserver" },
      allowedUses: ["digital_signature", "server_auth"],
      dnsNames: ["kubernetes"],
      ipAddresses: ["10.96.0.1", "198.51.100.7"],
    });
    expect(missingApiServerSans(cert, [{ address: "198.51.100.7", why: "endpoint" }])).toEqual([]);
    expect(missingApiServerSans(cert, [{ address: "10.20.1.5", why: "the Octavia VIP" }])).toEqual([
      "the API server certificate lacks the IP SAN 10.20.1.5 (the Octavia VIP); it has IP 10.96.0.1, 198.51.100.7 and DNS kubernetes",
    ]);
  });

  it("points certificatesDir into the scratch dir and keeps every document", () => {
    const config =
      "apiVersion: a\nkind: InitConfiguration\n---\napiVersion: a\nkind: ClusterConfiguration\nclusterName: c\n";
    const documents = kubeadmDocuments(withCertificatesDir(config, "/scratch/pki"));
    expect(documents).toEqual([
      { apiVersion: "a", kind: "InitConfiguration" },
      { apiVersion: "a", kind: "ClusterConfiguration", clusterName: "c", certificatesDir: "/scratch/pki" },
    ]);
    expect(() => withCertificatesDir("kind: InitConfiguration\n", "/x")).toThrow(/no ClusterConfiguration/);
  });

  it("reads kubeadm's discovery hash from a join command", () => {
    const hash = `sha256:${"ab".repeat(32)}`;
    expect(discoveryHashIn(`kubeadm join 1.2.3.4:6443 --token a.b --discovery-token-ca-cert-hash ${hash} \n`)).toBe(
      hash,
    );
    expect(discoveryHashIn("kubeadm join 1.2.3.4:6443 --token a.b")).toBeUndefined();
  });

  it("redirects a kubeconfig to loopback while keeping the name its certificate is verified for", () => {
    const kubeconfig = renderKubeconfig({
      clusterName: "c",
      server: "198.51.100.7",
      caCertPem: "ca",
      clientCertPem: "cert",
      clientKeyPem: "key",
    });
    const redirected = parseYaml(redirectKubeconfig(kubeconfig, "https://127.0.0.1:1234", "198.51.100.7")) as {
      clusters: { cluster: Record<string, string> }[];
    };
    expect(redirected.clusters[0].cluster).toEqual({
      server: "https://127.0.0.1:1234",
      "tls-server-name": "198.51.100.7",
      "certificate-authority-data": Buffer.from("ca").toString("base64"),
    });
  });

  it("lays write_files out under a root with their modes, as cloud-init writes them", () => {
    const root = mkdtempSync(path.join(tmpdir(), "layout-"));
    const placed = layOut(root, [
      { path: "/etc/kubernetes/pki/ca.key", content: "secret", permissions: "0600" },
      { path: "/usr/local/sbin/x.sh", content: "#!/bin/sh\n", permissions: "0755" },
    ]);
    const key = placed.get("/etc/kubernetes/pki/ca.key") ?? "";
    expect(key).toBe(path.join(root, "etc/kubernetes/pki/ca.key"));
    expect(readFileSync(key, "utf8")).toBe("secret");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(placed.get("/usr/local/sbin/x.sh") ?? "").mode & 0o777).toBe(0o755);
    expect(() => layOut(root, [{ path: "relative", content: "", permissions: "0644" }])).toThrow(/not absolute/);
    rmSync(root, { recursive: true, force: true });
  });
});

describe("the ring's hardening checks can fail", () => {
  const ring = (flags: string[], audit: string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), "hardening-"));
    const state = path.join(dir, "state");
    const log = path.join(dir, "node", "var", "log", "kubernetes", "audit", "audit.log");
    mkdirSync(state, { recursive: true });
    mkdirSync(path.dirname(log), { recursive: true });
    writeFileSync(path.join(state, "kube-apiserver.flags"), [...flags, `--audit-log-path=${log}`].join("\n"));
    writeFileSync(log, audit.join("\n"));
    return { state, nodeRoot: path.join(dir, "node") };
  };
  const all = Object.entries(CIS_FLAGS).map(([flag, value]) => `${flag}=${value ?? "/etc/kubernetes/x"}`);
  const event = (level: string, extra: object = {}) =>
    JSON.stringify({
      level,
      verb: "create",
      objectRef: { resource: "secrets", namespace: "default", name: PROBE_SECRET.name },
      ...extra,
    });

  it("a missing or weakened CIS flag is reported", () => {
    expect(checkFlags(ring(all, []).state)).toMatch(/CIS flags set/);
    const weak = all
      .filter((f) => !f.startsWith("--encryption-provider-config"))
      .map((f) => (f.startsWith("--audit-log-maxage") ? "--audit-log-maxage=7" : f));
    expect(() => checkFlags(ring(weak, []).state)).toThrow(
      /--audit-log-maxage=7, expected 30; --encryption-provider-config is not set/,
    );
  });

  it("a Secret logged with its body, or its value anywhere in the log, is reported", () => {
    const check = (audit: string[]) => {
      const { state, nodeRoot } = ring(all, audit);
      return () => checkAuditLog({ state, nodeRoot } as HardeningRing, "v4lue");
    };
    expect(check([event("Metadata")])()).toMatch(/at Metadata, no value anywhere/);
    expect(check([event("Request", { requestObject: { data: {} } })])).toThrow(/logged at Request, with its body/);
    expect(check([event("Metadata"), JSON.stringify({ level: "Metadata", note: "v4lue" })])).toThrow(
      /value is in the audit log/,
    );
    expect(check([])).toThrow(/expected one audit event/);
  });
});

describe("the objects the bootstrap ring dry-runs on the real API server (e2e/bootstrap/objects.ts)", () => {
  it("takes every Kubernetes object the program creates, not Helm releases or reads, and the namespaces they need", async () => {
    const run = await evaluateStack("prod", { kialiHost: "mesh.example.com", kialiTlsSecret: "mesh-tls" });
    const objects = programObjects(run.resources);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      "Namespace",
      "Secret",
      "PeerAuthentication",
      "Gateway",
      "VirtualService",
      "PersistentVolumeClaim",
    ])
      expect(kinds).toContain(kind);
    expect(kinds).not.toContain("Release");
    // The ingress Service is read (Service.get), never created: no inputs, so not an object to apply.
    expect(objects.every((o) => typeof o.metadata.name === "string")).toBe(true);
    const namespaces = namespacesFirst(run.resources, objects);
    for (const o of objects) if (o.metadata.namespace) expect(namespaces).toContain(o.metadata.namespace);
  });

  it("counts the objects kubectl's dry run accepted, and lists CRD files that exist", () => {
    const output = [
      "namespace/istio-system serverside-applied (server dry run)",
      "peerauthentication.security.istio.io/default serverside-applied (server dry run)",
      "Error from server: something else",
    ].join("\n");
    expect(acceptedByDryRun(output)).toBe(2);
    const files = crdFiles(path.resolve(__dirname, "..", "..", "shared", "charts"));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(statSync(file).isFile()).toBe(true);
  });
});

describe("the ring's cluster-info signature check can fail", () => {
  // A detached JWS as the bootstrap signer writes it: base64url header, empty payload, HS256 signature.
  const token = "abcdef.0123456789abcdef";
  const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
  const sign = (header: object, secret: string, content = kubeconfig) => {
    const protectedHeader = Buffer.from(JSON.stringify(header)).toString("base64url");
    const mac = createHmac("sha256", secret)
      .update(`${protectedHeader}.${Buffer.from(content).toString("base64url")}`)
      .digest("base64url");
    return `${protectedHeader}..${mac}`;
  };
  const good = sign({ alg: "HS256", kid: "abcdef" }, "0123456789abcdef");

  it("accepts the token's own signature", () => {
    expect(clusterInfoSignedWith(kubeconfig, good, token)).toBe(true);
  });

  it.each([
    ["another token secret", good, "abcdef.ffffffffffffffff", kubeconfig],
    ["another token id in the header", sign({ alg: "HS256", kid: "zzzzzz" }, "0123456789abcdef"), token, kubeconfig],
    ["an algorithm other than HS256", sign({ alg: "HS512", kid: "abcdef" }, "0123456789abcdef"), token, kubeconfig],
    ["a changed kubeconfig", good, token, `${kubeconfig}# changed\n`],
    ["an attached payload", good.replace("..", ".e30."), token, kubeconfig],
  ])("refuses %s", (_why, jws, withToken, content) => {
    expect(clusterInfoSignedWith(content, jws, withToken)).toBe(false);
  });
});
