/** The Nova keypair's name. Pure. */
import { createHash } from "node:crypto";
import { resourceName } from "../names";

/**
 * `<cluster>-admin-<8 hex of the key's SHA-256>`. Nova refuses a second keypair of the same name,
 * and Pulumi creates a replacement before it deletes the original: with a fixed name, changing
 * `sshPublicKey` failed with 409 "Key pair already exists" (found by e2e:openstack). The comment
 * of the key line is left out, so editing it changes nothing.
 */
export function keyPairName(clusterName: string, publicKey: string): string {
  const [type, body] = publicKey.trim().split(/\s+/);
  const digest = createHash("sha256").update(`${type} ${body}`).digest("hex").slice(0, 8);
  return resourceName(clusterName, "admin", digest);
}
