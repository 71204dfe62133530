/**
 * The node join, proven on the real binaries without a kubelet: kube-controller-manager runs from
 * the manifest kubeadm renders from the program's init.yaml, and then
 *
 *   - its bootstrap signer signs `kube-public/cluster-info` with the program's token (the JWS is
 *     checked here against the token secret, and a wrong secret does not verify);
 *   - kubeadm's own discovery, run with a node's join.yaml as rendered (in a network namespace where
 *     the endpoint address answers, see endpointNetns.ts), trusts the cluster with the CA hash the
 *     program pinned, and refuses a join.yaml pinning another hash;
 *   - a certificate signing request made as a kubelet's TLS bootstrap makes it (CN system:node:<name>,
 *     O system:nodes, signer kubernetes.io/kube-apiserver-client-kubelet), sent with the program's
 *     bootstrap token, is approved by the controller-manager and signed by the program's CA; the same
 *     request with a wrong token secret is refused.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import type { RunResult } from "../lib/proc";
import { clusterInfoSignedWith, redirectKubeconfig, signedBy } from "./checks";
import type { EndpointNetns } from "./endpointNetns";
import type { Kubectl } from "./hardening";

export interface JoinRing {
  /** kubeadm of the pinned version; rejects when it fails. */
  readonly kubeadm: (args: string[], extraEnv?: NodeJS.ProcessEnv) => Promise<RunResult>;
  /** Any tool; rejects when it fails. */
  readonly tool: (command: string, args: string[], extraEnv?: NodeJS.ProcessEnv) => Promise<RunResult>;
  /** kubectl against the ring's API server (TLS verified for the endpoint); resolves even when it fails. */
  readonly kubectl: Kubectl;
  readonly apiserverSh: string;
  readonly state: string;
  readonly pkiDir: string;
  readonly scratch: string;
  readonly port: number;
  readonly endpointAddress: string;
  readonly env: NodeJS.ProcessEnv;
}

function fail(message: string): never {
  throw new Error(message);
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) fail(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** kube-controller-manager from kubeadm's manifest (init.yaml as the node has it), on loopback. */
export async function startControllerManager(
  ring: JoinRing,
  initYaml: string,
  scratchInit: string,
  nodeAddress: string,
): Promise<string> {
  const dir = path.join(ring.scratch, "controller-manager");
  await ring.kubeadm([
    "init",
    "phase",
    "kubeconfig",
    "controller-manager",
    "--config",
    scratchInit,
    "--kubeconfig-dir",
    dir,
  ]);
  // kubeadm points it at the node's own API server (its advertise address): here, loopback,
  // verifying the certificate for that address as the node would.
  const kubeconfig = path.join(dir, "controller-manager-loopback.conf");
  writeFileSync(
    kubeconfig,
    redirectKubeconfig(
      readFileSync(path.join(dir, "controller-manager.conf"), "utf8"),
      `https://127.0.0.1:${ring.port}`,
      nodeAddress,
    ),
    { mode: 0o600 },
  );
  await ring.kubeadm(["init", "phase", "control-plane", "controller-manager", "--config", initYaml, "--dry-run"], {
    KUBEADM_INIT_DRYRUN_DIR: dir,
  });
  await ring.tool(ring.apiserverSh, [
    "start-controller-manager",
    ring.pkiDir,
    ring.state,
    kubeconfig,
    path.join(dir, "kube-controller-manager.yaml"),
  ]);
  return "from kubeadm's manifest (bootstrapsigner, csrapproving, csrsigning with our CA)";
}

/** The bootstrap signer's JWS on cluster-info, checked against the program's token. */
export async function checkClusterInfoSigned(ring: JoinRing, adminConf: string, token: string): Promise<string> {
  const tokenId = token.split(".")[0];
  const data = await until(`cluster-info signed for token ${tokenId}`, 60, async () => {
    const got = await ring.kubectl(adminConf, ["get", "configmap", "cluster-info", "-n", "kube-public", "-o", "json"]);
    if (got.status !== 0) return undefined;
    const d = (JSON.parse(got.stdout) as { data?: Record<string, string> }).data ?? {};
    return d[`jws-kubeconfig-${tokenId}`] ? d : undefined;
  });
  const jws = data[`jws-kubeconfig-${tokenId}`];
  if (!clusterInfoSignedWith(data.kubeconfig, jws, token))
    fail(`cluster-info's jws-kubeconfig-${tokenId} does not verify with the program's token secret`);
  const forged = `${tokenId}.${"0".repeat(16)}`;
  if (clusterInfoSignedWith(data.kubeconfig, jws, forged)) fail("the signature also verifies with a wrong secret");
  const server = String(
    (parseYaml(data.kubeconfig) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server,
  );
  return `jws-kubeconfig-${tokenId} = HS256 with our token secret (a wrong secret fails); server ${server}`;
}

/** kubeadm's discovery with the node's join.yaml, and with a wrong pin. */
export async function checkDiscovery(
  ring: JoinRing,
  netns: EndpointNetns,
  joinYaml: string,
  kubeadm: string,
): Promise<string> {
  const preflight = (config: string) =>
    netns.run(
      kubeadm,
      ["join", "phase", "preflight", "--config", config, "--ignore-preflight-errors=all", "-v=1"],
      ring.env,
    );
  const ok = await preflight(joinYaml);
  const output = `${ok.stdout}${ok.stderr}`;
  // kubeadm's token discovery (-v=1): the JWS checked with the token, the CA pinned, TLS re-validated;
  // then, authenticated with the token, the cluster's kubelet configuration downloaded.
  const established =
    /Cluster info signature and contents are valid and TLS certificate validates against pinned roots/.test(output);
  const readConfig = /attempting to download the KubeletConfiguration/.test(output);
  if (ok.status !== 0 || !established)
    fail(`kubeadm's discovery with the node's join.yaml failed (exit ${ok.status}):\n${output.slice(-3000)}`);

  const wrong = path.join(ring.scratch, "join-wrong-pin.yaml");
  const documents = readFileSync(joinYaml, "utf8")
    .split(/^---$/m)
    .map((d) => parseYaml(d) as Record<string, unknown>);
  const join = documents.find((d) => d.kind === "JoinConfiguration") as
    | { discovery: { bootstrapToken: { caCertHashes: string[] } } }
    | undefined;
  if (!join) fail(`${joinYaml} has no JoinConfiguration`);
  join.discovery.bootstrapToken.caCertHashes = [`sha256:${"ab".repeat(32)}`];
  writeFileSync(wrong, documents.map((d) => stringify(d)).join("---\n"), { mode: 0o600 });
  const refused = await preflight(wrong);
  const refusedOutput = `${refused.stdout}${refused.stderr}`;
  if (refused.status === 0 || !/none of the public keys .* are pinned/.test(refusedOutput))
    fail(`kubeadm's discovery accepted a join.yaml pinning a foreign CA hash:\n${refusedOutput.slice(-2000)}`);
  if (!readConfig)
    fail(`kubeadm did not go on to read the cluster's configuration with the token:\n${output.slice(-2000)}`);
  return "cluster-info's JWS valid for our token, TLS validates against our pinned CA, configuration read with the token; a foreign pin refused";
}

interface Csr {
  status?: {
    certificate?: string;
    conditions?: { type: string; reason?: string }[];
  };
}

/** A kubelet's TLS bootstrap: CSR with the bootstrap token, approved and signed by our CA. */
export async function checkTlsBootstrap(
  ring: JoinRing,
  adminConf: string,
  token: string,
  nodeName: string,
): Promise<string> {
  const dir = path.join(ring.scratch, "tls-bootstrap");
  const key = path.join(dir, "kubelet.key");
  const csrPem = path.join(dir, "kubelet.csr");
  await ring.tool("mkdir", ["-p", dir]);
  // What the kubelet makes: an ECDSA P-256 key, subject O=system:nodes, CN=system:node:<name>.
  await ring.tool("openssl", [
    ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", key, "-subj", `/O=system:nodes/CN=system:node:${nodeName}`, "-out", csrPem],
  ]);
  const caPem = readFileSync(path.join(ring.pkiDir, "ca.crt"), "utf8");
  const bootstrapConf = (secret: string) => {
    const file = path.join(dir, `bootstrap-${secret === token ? "ours" : "wrong"}.conf`);
    writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "cluster",
            cluster: {
              server: `https://${ring.endpointAddress}:6443`,
              "certificate-authority-data": Buffer.from(caPem).toString("base64"),
            },
          },
        ],
        users: [{ name: "tls-bootstrap-token-user", user: { token: secret } }],
        contexts: [{ name: "bootstrap", context: { cluster: "cluster", user: "tls-bootstrap-token-user" } }],
        "current-context": "bootstrap",
      }),
      { mode: 0o600 },
    );
    return file;
  };
  const name = `node-csr-${nodeName}`;
  const csrObject = (metadataName: string) =>
    JSON.stringify({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name: metadataName },
      spec: {
        request: Buffer.from(readFileSync(csrPem)).toString("base64"),
        signerName: "kubernetes.io/kube-apiserver-client-kubelet",
        usages: ["digital signature", "client auth"],
      },
    });

  const forged = `${token.split(".")[0]}.${"0".repeat(16)}`;
  const refused = await ring.kubectl(
    bootstrapConf(forged),
    ["create", "--validate=false", "-f", "-"],
    csrObject(`${name}-forged`),
  );
  if (refused.status === 0 || !/Unauthorized/i.test(refused.stderr))
    fail(`a CSR sent with a wrong token secret was not refused:\n${refused.stdout}${refused.stderr}`);

  const created = await ring.kubectl(bootstrapConf(token), ["create", "--validate=false", "-f", "-"], csrObject(name));
  if (created.status !== 0) fail(`the bootstrap token cannot create a CSR:\n${created.stderr}`);
  const csr = await until(`CSR ${name} approved and signed`, 60, async () => {
    const got = await ring.kubectl(adminConf, ["get", "csr", name, "-o", "json"]);
    if (got.status !== 0) return undefined;
    const parsed = JSON.parse(got.stdout) as Csr;
    return parsed.status?.certificate ? parsed : undefined;
  });
  const approved = csr.status?.conditions?.find((c) => c.type === "Approved");
  if (!approved) fail(`CSR ${name} was signed without an Approved condition`);
  const certificate = Buffer.from(csr.status?.certificate ?? "", "base64").toString("utf8");
  if (!signedBy(certificate, caPem)) fail(`the kubelet client certificate is not signed by the program's CA`);
  const subject = new X509Certificate(certificate).subject;
  if (!subject.includes(`CN=system:node:${nodeName}`) || !subject.includes("O=system:nodes"))
    fail(`the signed certificate's subject is ${subject}`);
  return `CSR ${approved.reason ?? "Approved"}, signed by our CA for system:node:${nodeName}; a wrong token secret: Unauthorized`;
}
