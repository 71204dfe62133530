/** Certificate facts computed in the program, with Node's own X.509 parser: pure, tested with real keys. */
import { createHash, X509Certificate } from "node:crypto";

/** kubeadm's discovery hash: "sha256:" + hex SHA-256 of the CA certificate's DER SubjectPublicKeyInfo. */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

export function bootstrapToken(id: string, secret: string): string {
  if (!/^[a-z0-9]{6}$/.test(id) || !/^[a-z0-9]{16}$/.test(secret)) {
    throw new Error("bootstrap token parts must be [a-z0-9]{6} and [a-z0-9]{16}");
  }
  return `${id}.${secret}`;
}

/** A short, order-independent digest of a set of node names (the join token's keeper). */
export function nodeSetDigest(names: readonly string[]): string {
  return createHash("sha256")
    .update([...new Set(names)].sort().join("\n"))
    .digest("hex")
    .slice(0, 16);
}
