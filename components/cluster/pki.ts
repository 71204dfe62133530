import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { bootstrapToken, caCertHash, nodeSetDigest } from "./pkiMath";

export interface CertificateAuthority {
  readonly certPem: pulumi.Output<string>;
  /** Secret. */
  readonly keyPem: pulumi.Output<string>;
}

/** Ten years, like kubeadm's own CAs; leaf certificates signed on the nodes live one year. */
const CA_VALIDITY_HOURS = 10 * 365 * 24;
const ADMIN_VALIDITY_HOURS = 365 * 24;
/** `pulumi up` in the last 30 days of the admin certificate's life issues a new one. */
const ADMIN_EARLY_RENEWAL_HOURS = 30 * 24;

export interface ClusterPkiArgs {
  readonly clusterName: string;
  /**
   * The names of every node: the join token is a new one whenever this set changes (nodes added,
   * removed or rolled), so a token read from an old node's user data never opens a window again.
   */
  readonly nodeNames: readonly string[];
  /**
   * Pulumi's protect flag on what the cluster cannot lose (CAs, service-account key, encryption
   * key): an update that would replace one fails instead of silently cutting every node and client
   * off, or making the Secrets in etcd unreadable. Not on what rotates by design (admin
   * certificate, join token).
   */
  readonly protect?: boolean;
}

/**
 * The cluster's key material, owned by Pulumi so that no file ever has to be copied off a node:
 * the cluster, front-proxy and etcd CAs, the service-account key pair, the key that encrypts
 * Secrets at rest, the admin client certificate and the bootstrap token. Every private key, the
 * encryption key and the token are Pulumi secrets.
 */
export class ClusterPki extends pulumi.ComponentResource {
  readonly clusterCa: CertificateAuthority;
  readonly frontProxyCa: CertificateAuthority;
  readonly etcdCa: CertificateAuthority;
  readonly serviceAccountKeyPem: pulumi.Output<string>;
  readonly serviceAccountPublicKeyPem: pulumi.Output<string>;
  readonly adminCertPem: pulumi.Output<string>;
  readonly adminKeyPem: pulumi.Output<string>;
  /** "<id>.<secret>", secret. */
  readonly bootstrapToken: pulumi.Output<string>;
  /** The token's public half (its Secret's name is bootstrap-token-<id>). */
  readonly bootstrapTokenId: pulumi.Output<string>;
  /** Pins the cluster CA for joining nodes: "sha256:<hex>". */
  readonly caCertHash: pulumi.Output<string>;
  /** The key that encrypts Secrets in etcd (secretbox, 32 bytes): name and base64 value (secret). */
  readonly encryptionKey: { readonly name: string; readonly secretBase64: pulumi.Output<string> };

  constructor(name: string, args: ClusterPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:cluster:ClusterPki", name, {}, opts);
    const child = { parent: this };
    const kept = { parent: this, protect: args.protect ?? false };

    const authority = (role: string, commonName: string): CertificateAuthority => {
      const key = new tls.PrivateKey(`${name}-${role}`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, kept);
      const cert = new tls.SelfSignedCert(
        `${name}-${role}`,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName, organization: args.clusterName },
          isCaCertificate: true,
          validityPeriodHours: CA_VALIDITY_HOURS,
          allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
        },
        kept,
      );
      return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };

    // Common names as kubeadm would choose them, so the certificates read the same as a kubeadm cluster's.
    this.clusterCa = authority("ca", "kubernetes");
    this.frontProxyCa = authority("front-proxy-ca", "front-proxy-ca");
    this.etcdCa = authority("etcd-ca", "etcd-ca");

    const serviceAccount = new tls.PrivateKey(`${name}-sa`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, kept);
    this.serviceAccountKeyPem = pulumi.secret(serviceAccount.privateKeyPem);
    this.serviceAccountPublicKeyPem = serviceAccount.publicKeyPem;

    // kubeadm:cluster-admins (bound to cluster-admin by kubeadm init), not system:masters: revocable through RBAC.
    // The key stays (protected like the others); its certificate is what renews.
    const adminKey = new tls.PrivateKey(`${name}-admin`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, kept);
    const adminRequest = new tls.CertRequest(
      `${name}-admin`,
      {
        privateKeyPem: adminKey.privateKeyPem,
        subject: { commonName: "kubernetes-admin", organization: "kubeadm:cluster-admins" },
      },
      child,
    );
    const adminCert = new tls.LocallySignedCert(
      `${name}-admin`,
      {
        certRequestPem: adminRequest.certRequestPem,
        caCertPem: this.clusterCa.certPem,
        caPrivateKeyPem: this.clusterCa.keyPem,
        validityPeriodHours: ADMIN_VALIDITY_HOURS,
        earlyRenewalHours: ADMIN_EARLY_RENEWAL_HOURS,
        allowedUses: ["client_auth", "digital_signature", "key_encipherment"],
      },
      child,
    );
    this.adminCertPem = adminCert.certPem;
    this.adminKeyPem = pulumi.secret(adminKey.privateKeyPem);

    const keepers = { nodes: nodeSetDigest(args.nodeNames) };
    const tokenId = new random.RandomString(
      `${name}-token-id`,
      { length: 6, special: false, upper: false, keepers },
      child,
    );
    const tokenSecret = new random.RandomPassword(
      `${name}-token-secret`,
      { length: 16, special: false, upper: false, keepers },
      child,
    );
    this.bootstrapTokenId = tokenId.result;
    this.bootstrapToken = pulumi.secret(
      pulumi.all([tokenId.result, tokenSecret.result]).apply(([id, secret]) => bootstrapToken(id, secret)),
    );
    this.caCertHash = this.clusterCa.certPem.apply(caCertHash);

    // Rotating it is a new key under a new name, kept beside the old one until every Secret is
    // rewritten (docs/operations.md); replacing it in place would leave etcd's Secrets unreadable.
    const encryption = new random.RandomBytes(`${name}-secrets-encryption`, { length: 32 }, kept);
    this.encryptionKey = { name: "key-1", secretBase64: pulumi.secret(encryption.base64) };

    this.registerOutputs({ clusterCaCertPem: this.clusterCa.certPem, caCertHash: this.caCertHash });
  }
}
