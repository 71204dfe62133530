/**
 * Real key material for the mock engine: what @pulumi/tls would return, made with real crypto so
 * that tests can check chains, hashes and kubeconfigs. Keys are derived from the resource name
 * (a resource keeps its key across runs, as Pulumi state does); certificates are signed by openssl.
 */
import { execFileSync } from "node:child_process";
import { createECDH, createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const b64url = (buffer: Buffer) => buffer.toString("base64url");

/**
 * A P-256 key pair whose private scalar is derived from the name: same name, same key. A salt (the
 * mock engine's keySalt) is mixed in when given: a random salt makes a fresh, unpredictable key.
 */
export function deterministicEcKey(
  name: string,
  salt = "",
): { privateKeyPem: string; privateKeyPemPkcs8: string; publicKeyPem: string } {
  const scalar = createHash("sha256")
    .update(salt ? `mock-ec-key:${salt}:${name}` : `mock-ec-key:${name}`)
    .digest();
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(scalar);
  const point = ecdh.getPublicKey();
  const jwk = {
    kty: "EC",
    crv: "P-256",
    d: b64url(scalar),
    x: b64url(point.subarray(1, 33)),
    y: b64url(point.subarray(33, 65)),
  };
  const key = createPrivateKey({ key: jwk, format: "jwk" });
  return {
    // @pulumi/tls returns ECDSA keys as SEC1 ("EC PRIVATE KEY"), like openssl and kubeadm.
    privateKeyPem: key.export({ type: "sec1", format: "pem" }).toString(),
    privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
  };
}

interface Subject {
  readonly commonName?: string;
  readonly organization?: string;
}

function subjectArg(subject: Subject | undefined): string {
  const parts = [
    ...(subject?.organization ? [`/O=${subject.organization}`] : []),
    ...(subject?.commonName ? [`/CN=${subject.commonName}`] : []),
  ];
  return parts.join("") || "/";
}

const KEY_USAGE: Record<string, string> = {
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
  digital_signature: "digitalSignature",
  key_encipherment: "keyEncipherment",
};
const EXTENDED_USAGE: Record<string, string> = { client_auth: "clientAuth", server_auth: "serverAuth" };

function extensions(uses: readonly string[], isCa: boolean, sans: { dns: string[]; ip: string[] }): string {
  const keyUsage = uses.flatMap((u) => (KEY_USAGE[u] ? [KEY_USAGE[u]] : []));
  const extended = uses.flatMap((u) => (EXTENDED_USAGE[u] ? [EXTENDED_USAGE[u]] : []));
  const altNames = [...sans.dns.map((d) => `DNS:${d}`), ...sans.ip.map((i) => `IP:${i}`)];
  return [
    `basicConstraints=critical,CA:${isCa ? "TRUE" : "FALSE"}`,
    ...(keyUsage.length ? [`keyUsage=critical,${keyUsage.join(",")}`] : []),
    ...(extended.length ? [`extendedKeyUsage=${extended.join(",")}`] : []),
    ...(altNames.length ? [`subjectAltName=${altNames.join(",")}`] : []),
    "subjectKeyIdentifier=hash",
  ].join("\n");
}

function withTempDir<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), "mock-pki-"));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
const days = (hours: unknown) => String(Math.max(1, Math.ceil(Number(hours ?? 24) / 24)));

/**
 * Signing spawns openssl; the same inputs (deterministic keys, same subject) may reuse an earlier
 * run's certificate from a cache in the temp dir, as a real stack reuses the one in its state.
 */
function cachedPem(kind: string, inputs: Record<string, unknown>, make: () => string): string {
  const dir = path.join(tmpdir(), "istio-openstack-mock-pki");
  const file = path.join(dir, `${kind}-${createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}.pem`);
  if (existsSync(file)) return readFileSync(file, "utf8");
  const pem = make();
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, pem);
  renameSync(partial, file);
  return pem;
}

export function selfSignedCert(inputs: Record<string, unknown>): string {
  return cachedPem("self-signed", inputs, () => signSelf(inputs));
}

export function certRequest(inputs: Record<string, unknown>): string {
  return cachedPem("csr", inputs, () => makeRequest(inputs));
}

export function locallySignedCert(inputs: Record<string, unknown>): string {
  return cachedPem("signed", inputs, () => signWithCa(inputs));
}

function makeRequest(inputs: Record<string, unknown>): string {
  return withTempDir((dir) => {
    writeFileSync(path.join(dir, "key.pem"), String(inputs.privateKeyPem));
    const subject = subjectArg(inputs.subject as Subject);
    openssl(["req", "-new", "-key", path.join(dir, "key.pem"), "-subj", subject, "-out", path.join(dir, "csr.pem")]);
    return readFileSync(path.join(dir, "csr.pem"), "utf8");
  });
}

/** `openssl x509 -req` on a request, signed by the files `signer` writes into the scratch dir and names. */
function signRequest(requestPem: string, inputs: Record<string, unknown>, signer: (dir: string) => string[]): string {
  return withTempDir((dir) => {
    writeFileSync(path.join(dir, "csr.pem"), requestPem);
    const sans = { dns: (inputs.dnsNames as string[]) ?? [], ip: (inputs.ipAddresses as string[]) ?? [] };
    const uses = (inputs.allowedUses as string[]) ?? [];
    writeFileSync(path.join(dir, "ext.cnf"), extensions(uses, Boolean(inputs.isCaCertificate), sans));
    const out = path.join(dir, "cert.pem");
    const validity = ["-days", days(inputs.validityPeriodHours)];
    const common = ["-in", path.join(dir, "csr.pem"), ...validity, "-extfile", path.join(dir, "ext.cnf"), "-out", out];
    openssl(["x509", "-req", ...common, ...signer(dir)]);
    return readFileSync(out, "utf8");
  });
}

function signSelf(inputs: Record<string, unknown>): string {
  return signRequest(makeRequest(inputs), inputs, (dir) => {
    writeFileSync(path.join(dir, "key.pem"), String(inputs.privateKeyPem));
    return ["-signkey", path.join(dir, "key.pem")];
  });
}

function signWithCa(inputs: Record<string, unknown>): string {
  return signRequest(String(inputs.certRequestPem), inputs, (dir) => {
    writeFileSync(path.join(dir, "ca.pem"), String(inputs.caCertPem));
    writeFileSync(path.join(dir, "ca-key.pem"), String(inputs.caPrivateKeyPem));
    return ["-CA", path.join(dir, "ca.pem"), "-CAkey", path.join(dir, "ca-key.pem"), "-CAcreateserial"];
  });
}
