/**
 * Pure helpers of the bootstrap proof: reading cloud-config, laying its files out under a scratch
 * root as cloud-init would, certificate facts, kubeconfig rewrites. No tool runs here.
 */
import { createHmac, timingSafeEqual, X509Certificate } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { nthAddress, parseCidr } from "../../lib/cidr";

export interface CloudConfigFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
}

export function writeFilesOf(userData: string): CloudConfigFile[] {
  if (!userData.startsWith("#cloud-config\n")) throw new Error("user data is not a #cloud-config document");
  const document = parseYaml(userData) as { write_files?: CloudConfigFile[] };
  return document.write_files ?? [];
}

/** Writes every file under `root` (absolute paths re-rooted), with its mode, as cloud-init's write_files does. */
export function layOut(root: string, files: readonly CloudConfigFile[]): Map<string, string> {
  const placed = new Map<string, string>();
  for (const file of files) {
    if (!path.isAbsolute(file.path)) throw new Error(`write_files path ${file.path} is not absolute`);
    const target = path.join(root, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    chmodSync(target, Number.parseInt(file.permissions, 8));
    placed.set(file.path, target);
  }
  return placed;
}

/** The first address of a Service CIDR: the `kubernetes` Service's cluster IP (10.96.0.1 for 10.96.0.0/12). */
export function firstServiceIp(serviceCidr: string): string {
  const cidr = parseCidr(serviceCidr);
  if (!cidr) throw new Error(`bad serviceCidr ${serviceCidr}`);
  return nthAddress(cidr, 1);
}

export interface SubjectAltNames {
  readonly dns: string[];
  readonly ip: string[];
}

export function subjectAltNames(certPem: string): SubjectAltNames {
  const entries = (new X509Certificate(certPem).subjectAltName ?? "").split(", ").filter(Boolean);
  return {
    dns: entries.filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4)),
    ip: entries.filter((e) => e.startsWith("IP Address:")).map((e) => e.slice(11)),
  };
}

/**
 * The API server certificate must carry every address clients and nodes reach it by. Returns one
 * clear problem per missing address (empty when all are there).
 */
export function missingApiServerSans(
  certPem: string,
  expected: readonly { readonly address: string; readonly why: string }[],
): string[] {
  const sans = subjectAltNames(certPem);
  return expected
    .filter((e) => !sans.ip.includes(e.address))
    .map(
      (e) =>
        `the API server certificate lacks the IP SAN ${e.address} (${e.why}); it has IP ${sans.ip.join(", ") || "none"} and DNS ${sans.dns.join(", ") || "none"}`,
    );
}

/** Whether `certPem` is signed by `caPem` (issuer name and signature). */
export function signedBy(certPem: string, caPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
}

/**
 * A kubeconfig that connects to `server` (the API server on loopback) but verifies the serving
 * certificate for `tlsServerName` (the endpoint address the program wrote): kubeconfig's own
 * `tls-server-name` field, for tools without a --tls-server-name flag (kubeadm).
 */
export function redirectKubeconfig(kubeconfig: string, server: string, tlsServerName: string): string {
  const config = parseYaml(kubeconfig) as Kubeconfig;
  for (const entry of config.clusters) {
    entry.cluster.server = server;
    entry.cluster["tls-server-name"] = tlsServerName;
  }
  return stringify(config);
}

export function kubeconfigServer(kubeconfig: string): string {
  const config = parseYaml(kubeconfig) as Kubeconfig;
  if (config.clusters.length !== 1)
    throw new Error(`expected one cluster in the kubeconfig, got ${config.clusters.length}`);
  return String(config.clusters[0].cluster.server);
}

/** Sets ClusterConfiguration.certificatesDir in a multi-document kubeadm config, keeping the rest as is. */
export function withCertificatesDir(kubeadmConfig: string, certificatesDir: string): string {
  const documents = parseAllDocuments(kubeadmConfig);
  const objects = documents.map((d) => d.toJS() as Record<string, unknown>);
  const cluster = objects.find((o) => o.kind === "ClusterConfiguration");
  if (!cluster) throw new Error("no ClusterConfiguration document to point certificatesDir at");
  cluster.certificatesDir = certificatesDir;
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** The kubeadm discovery hash in a `kubeadm join ...` command line. */
export function discoveryHashIn(joinCommand: string): string | undefined {
  return /--discovery-token-ca-cert-hash\s+(sha256:[0-9a-f]{64})/.exec(joinCommand)?.[1];
}

export function kubeadmDocuments(config: string): { kind: string; [key: string]: unknown }[] {
  return parseAllDocuments(config).map((d) => d.toJS() as { kind: string });
}

/**
 * Whether `jws` (the detached JWS the bootstrap signer stores in cluster-info as
 * `jws-kubeconfig-<token id>`) signs `kubeconfig` with the bootstrap token: HS256 over
 * "<protected header>.<base64url(kubeconfig)>" keyed by the token secret, header `kid` = the token id.
 * This is what a joining node's kubeadm checks before it trusts anything in cluster-info.
 */
export function clusterInfoSignedWith(kubeconfig: string, jws: string, token: string): boolean {
  const [tokenId, tokenSecret] = token.split(".");
  const [protectedHeader, detachedPayload, signature] = jws.split(".");
  if (!protectedHeader || detachedPayload !== "" || !signature) return false;
  let header: { alg?: string; kid?: string };
  try {
    header = JSON.parse(Buffer.from(protectedHeader, "base64url").toString("utf8")) as { alg?: string; kid?: string };
  } catch {
    return false;
  }
  if (header.alg !== "HS256" || header.kid !== tokenId) return false;
  const expected = createHmac("sha256", tokenSecret)
    .update(`${protectedHeader}.${Buffer.from(kubeconfig, "utf8").toString("base64url")}`)
    .digest();
  const given = Buffer.from(signature, "base64url");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
