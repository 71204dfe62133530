import type * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec } from "../compute/layout";
import { apiServerConfigFiles } from "./bootstrap/apiServerConfig";
import { BOOTSTRAP_DIR, renderUserData, type WriteFile } from "./bootstrap/cloudInit";
import {
  type ClusterShape,
  initDocuments,
  joinDocuments,
  type NodeRegistration,
  type Taint,
} from "./bootstrap/kubeadm";
import type { NodeSoftware } from "./bootstrap/nodeSoftware";
import { ClusterPki } from "./pki";

export interface NodeKubernetesSettings {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
}

export interface ClusterBootstrapArgs {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** What the nodes install and from where (with a proxy, the API endpoint is added to its noProxy here). */
  readonly software: NodeSoftware;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The public API address (floating IP), known before any node boots. */
  readonly endpointAddress: pulumi.Input<string>;
  /** The load balancer's VIP in the node subnet, when there is one: also a certificate SAN. */
  readonly endpointInternalAddress: pulumi.Input<string | undefined>;
  /** Protect the key material the cluster cannot lose (ClusterPkiArgs.protect). */
  readonly protect?: boolean;
  /** Every node's name: the join token changes with this set (ClusterPkiArgs.nodeNames). */
  readonly nodeNames: readonly string[];
  /** How long `kubeadm init`'s registration of the join token lasts (the first join window). */
  readonly joinWindowMinutes: number;
}

const PKI = "/etc/kubernetes/pki";

/** The resolved values a node's user data is rendered from. */
interface BootstrapMaterial {
  readonly endpoint: string;
  readonly internal: string | undefined;
  readonly fixedIps: string[];
  readonly peers: string[];
  readonly token: string;
  readonly caCertHash: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly fpCert: string;
  readonly fpKey: string;
  readonly etcdCert: string;
  readonly etcdKey: string;
  readonly saKey: string;
  readonly saPub: string;
  readonly encryptionKey: string;
}

/**
 * Everything a node needs to join the cluster without SSH: the Pulumi-owned PKI and, per node, a
 * cloud-config with kubeadm's documents. Control-plane nodes get the shared CA and service-account
 * keys (so they join without kubeadm's two-hour upload-certs window); workers only the CA
 * certificate and a token pinned to the CA's public key.
 */
export class ClusterBootstrap extends pulumi.ComponentResource {
  readonly pki: ClusterPki;
  private readonly args: ClusterBootstrapArgs;

  constructor(name: string, args: ClusterBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:cluster:ClusterBootstrap", name, {}, opts);
    this.args = args;
    this.pki = new ClusterPki(
      `${args.clusterName}-pki`,
      { clusterName: args.clusterName, protect: args.protect ?? false, nodeNames: args.nodeNames },
      { parent: this },
    );
    this.registerOutputs({ caCertHash: this.pki.caCertHash });
  }

  /**
   * The node's user data, a Pulumi secret (it carries the bootstrap token, and keys on control-plane
   * nodes). `peers` are the addresses of the other nodes of its pool (for a control-plane node: the
   * rest of the control plane).
   */
  userData(
    node: NodeSpec,
    port: openstack.networking.Port,
    peers: pulumi.Output<string[]>,
    settings: NodeKubernetesSettings,
  ): pulumi.Output<string> {
    const pki = this.pki;
    const controlPlane = node.role === "control-plane";
    return pulumi.secret(
      (
        pulumi.output({
          endpoint: this.args.endpointAddress,
          internal: this.args.endpointInternalAddress,
          fixedIps: port.allFixedIps,
          peers,
          token: pki.bootstrapToken,
          caCertHash: pki.caCertHash,
          caCert: pki.clusterCa.certPem,
          caKey: pki.clusterCa.keyPem,
          fpCert: pki.frontProxyCa.certPem,
          fpKey: pki.frontProxyCa.keyPem,
          etcdCert: pki.etcdCa.certPem,
          etcdKey: pki.etcdCa.keyPem,
          saKey: pki.serviceAccountKeyPem,
          saPub: pki.serviceAccountPublicKeyPem,
          encryptionKey: pki.encryptionKey.secretBase64,
        }) satisfies pulumi.Output<BootstrapMaterial>
      ).apply(
        ({
          endpoint,
          internal,
          fixedIps,
          peers: peerAddresses,
          token,
          caCertHash,
          caCert,
          caKey,
          fpCert,
          fpKey,
          etcdCert,
          etcdKey,
          saKey,
          saPub,
          encryptionKey,
        }) => {
          const shape: ClusterShape = {
            clusterName: this.args.clusterName,
            kubernetesVersion: this.args.kubernetesVersion,
            endpointAddress: endpoint,
            extraCertSans: internal ? [internal] : [],
            podCidr: this.args.podCidr,
            serviceCidr: this.args.serviceCidr,
          };
          const registration: NodeRegistration = {
            name: node.name,
            address: fixedIps[0],
            labels: settings.labels,
            ...(settings.taints ? { taints: settings.taints } : {}),
          };
          const join = { token, caCertHash };
          const files: WriteFile[] = [
            { path: `${PKI}/ca.crt`, content: caCert, permissions: "0644" },
            ...(controlPlane
              ? ([
                  { path: `${PKI}/ca.key`, content: caKey, permissions: "0600" },
                  { path: `${PKI}/front-proxy-ca.crt`, content: fpCert, permissions: "0644" },
                  { path: `${PKI}/front-proxy-ca.key`, content: fpKey, permissions: "0600" },
                  { path: `${PKI}/etcd/ca.crt`, content: etcdCert, permissions: "0644" },
                  { path: `${PKI}/etcd/ca.key`, content: etcdKey, permissions: "0600" },
                  { path: `${PKI}/sa.key`, content: saKey, permissions: "0600" },
                  { path: `${PKI}/sa.pub`, content: saPub, permissions: "0644" },
                  ...apiServerConfigFiles({ name: pki.encryptionKey.name, secretBase64: encryptionKey }).map(
                    (file) => ({ ...file, permissions: "0600" as const }),
                  ),
                ] as const)
              : []),
            ...(node.initializesCluster
              ? [
                  {
                    path: `${BOOTSTRAP_DIR}/init.yaml`,
                    content: initDocuments(shape, registration, join, this.args.joinWindowMinutes),
                    permissions: "0600" as const,
                  },
                ]
              : []),
            {
              path: `${BOOTSTRAP_DIR}/join.yaml`,
              content: joinDocuments(shape, registration, join, controlPlane),
              permissions: "0600",
            },
          ];
          return renderUserData({
            hostname: node.name,
            kubernetesVersion: this.args.kubernetesVersion,
            software: withEndpointDirect(this.args.software, endpoint),
            kubeadm: {
              role: node.initializesCluster ? "init" : controlPlane ? "control-plane" : "worker",
              apiEndpoint: endpoint,
              nodeAddress: fixedIps[0],
              controlPlanePeers: controlPlane ? peerAddresses : [],
              ...(controlPlane && node.replaces ? { replaces: node.replaces } : {}),
              files,
            },
          });
        },
      ),
    );
  }
}

/** Nodes reach the API through its floating IP: never through the proxy. */
function withEndpointDirect(software: NodeSoftware, endpoint: string): NodeSoftware {
  const proxy = software.proxy;
  if (!proxy || proxy.noProxy.includes(endpoint)) return software;
  return { ...software, proxy: { ...proxy, noProxy: [...proxy.noProxy, endpoint] } };
}
