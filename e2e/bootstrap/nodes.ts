/**
 * The nodes of one evaluated stack, as cloud-init would leave them: each node's write_files laid
 * out under its own root in the scratch dir, its role, and what its user data may and may not carry.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { freshKeySalt } from "../../tools/mocks";
import { certRequest, deterministicEcKey, locallySignedCert, selfSignedCert } from "../../tools/mocks/pki";
import { kubeadmDocuments, layOut, writeFilesOf } from "./checks";
import type { EvaluatedStack } from "./evaluate";

export const PKI = "/etc/kubernetes/pki";
export const BOOTSTRAP = "/etc/kubernetes/bootstrap";
/** Kept by kubeadm (it must reuse our CAs and service-account key pair, never make its own). */
export const SHARED_PKI = [
  "ca.crt",
  "ca.key",
  "front-proxy-ca.crt",
  "front-proxy-ca.key",
  "etcd/ca.crt",
  "etcd/ca.key",
  "sa.pub",
  "sa.key",
];

export interface Node {
  readonly name: string;
  readonly role: "init" | "control-plane" | "worker";
  /** Its address in the node subnet (bootstrap.env NODE_ADDRESS). */
  readonly address: string;
  readonly userData: string;
  readonly root: string;
  /** cloud-config path -> scratch path */
  readonly files: Map<string, string>;
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Lays every node out and checks the user data: one init node; every node a join.yaml and the
 * same CA; control-plane nodes the same shared keys; workers only ca.crt and no private key at
 * all; and fresh key material (the CA key is not the mock engine's name-derived one).
 */
export function layOutNodes(ev: EvaluatedStack, dir: string): { nodes: Node[]; detail: string } {
  const nodes: Node[] = ev.nodes.map((n) => {
    const root = path.join(dir, n.name);
    const files = layOut(root, writeFilesOf(n.userData));
    const env = readFileSync(files.get(`${BOOTSTRAP}/bootstrap.env`) ?? fail(`${n.name}: no bootstrap.env`), "utf8");
    const role = /^NODE_ROLE="(init|control-plane|worker)"$/m.exec(env)?.[1] as Node["role"] | undefined;
    if (!role) fail(`${n.name}: no NODE_ROLE in bootstrap.env`);
    const address = /^NODE_ADDRESS="([^"]+)"$/m.exec(env)?.[1] ?? fail(`${n.name}: no NODE_ADDRESS in bootstrap.env`);
    return { name: n.name, role, address, userData: n.userData, root, files };
  });
  const inits = nodes.filter((n) => n.role === "init");
  if (inits.length !== 1) fail(`expected one init node, got ${inits.map((n) => n.name).join(", ") || "none"}`);
  const read = (node: Node, file: string) =>
    readFileSync(node.files.get(file) ?? fail(`${node.name} lacks ${file}`), "utf8");
  for (const node of nodes) {
    if (!node.files.has(`${BOOTSTRAP}/join.yaml`)) fail(`${node.name} has no join.yaml`);
    if (read(node, `${PKI}/ca.crt`) !== read(inits[0], `${PKI}/ca.crt`)) fail(`${node.name} trusts another CA`);
    const pki = [...node.files.keys()].filter((p) => p.startsWith(`${PKI}/`));
    if (node.role === "worker") {
      if (/PRIVATE KEY/.test(node.userData)) fail(`worker ${node.name}'s user data carries a private key`);
      if (pki.join() !== `${PKI}/ca.crt`) fail(`worker ${node.name} gets ${pki.join(", ")}; only ca.crt is allowed`);
    } else {
      for (const file of SHARED_PKI) {
        if (read(node, `${PKI}/${file}`) !== read(inits[0], `${PKI}/${file}`))
          fail(`${node.name}'s ${file} differs from the first node's`);
      }
    }
  }
  // Fresh key material: the CA key is not the one derived from its resource name alone.
  const caPublicKey = new X509Certificate(read(inits[0], `${PKI}/ca.crt`)).publicKey.export({
    type: "spki",
    format: "pem",
  });
  if (caPublicKey === deterministicEcKey(ev.clusterCaKeyResource).publicKeyPem) {
    fail("the cluster CA key is the fixed, name-derived mock key; the run must use fresh keys");
  }
  const workers = nodes.filter((n) => n.role === "worker").length;
  return {
    nodes,
    detail: `1 init, ${nodes.length - 1 - workers} control-plane join, ${workers} worker join; workers: no private key`,
  };
}

/** The token and CA pin a node joins with (its join.yaml). */
export function joinCredentials(node: Node): { token: string; caCertHash: string } {
  const file = node.files.get(`${BOOTSTRAP}/join.yaml`);
  if (!file) throw new Error(`${node.name} has no join.yaml`);
  const join = kubeadmDocuments(readFileSync(file, "utf8")).find((d) => d.kind === "JoinConfiguration") as
    | { discovery: { bootstrapToken: { token: string; caCertHashes: string[] } } }
    | undefined;
  if (!join) throw new Error(`${node.name}'s join.yaml has no JoinConfiguration`);
  return { token: join.discovery.bootstrapToken.token, caCertHash: join.discovery.bootstrapToken.caCertHashes[0] };
}

/**
 * The program's admin kubeconfig with the same identity (O=kubeadm:cluster-admins) but a client
 * certificate from a CA of our own making: the API server must refuse it.
 */
export function foreignClientKubeconfig(programKubeconfig: string): string {
  const salt = freshKeySalt();
  const caKey = deterministicEcKey("foreign-ca", salt);
  const clientKey = deterministicEcKey("foreign-admin", salt);
  const caPem = selfSignedCert({
    privateKeyPem: caKey.privateKeyPem,
    subject: { commonName: "kubernetes" },
    isCaCertificate: true,
    validityPeriodHours: 24,
    allowedUses: ["cert_signing", "digital_signature"],
  });
  const clientPem = locallySignedCert({
    certRequestPem: certRequest({
      privateKeyPem: clientKey.privateKeyPem,
      subject: { commonName: "kubernetes-admin", organization: "kubeadm:cluster-admins" },
    }),
    caCertPem: caPem,
    caPrivateKeyPem: caKey.privateKeyPem,
    validityPeriodHours: 24,
    allowedUses: ["client_auth", "digital_signature"],
  });
  const config = parseYaml(programKubeconfig) as { users: { user: Record<string, string> }[] };
  config.users[0].user["client-certificate-data"] = Buffer.from(clientPem).toString("base64");
  config.users[0].user["client-key-data"] = Buffer.from(clientKey.privateKeyPem).toString("base64");
  return JSON.stringify(config);
}
