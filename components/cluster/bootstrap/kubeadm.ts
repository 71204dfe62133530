/**
 * kubeadm configuration (API v1beta4, Kubernetes 1.31+) as pure functions of typed inputs. The
 * documents are checked by the real `kubeadm config validate` in the e2e ring (npm run e2e:bootstrap).
 */
import { stringify } from "yaml";
import { apiServerArgs, apiServerVolumes } from "./apiServerConfig";

export const KUBEADM_API = "kubeadm.k8s.io/v1beta4";
export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";
export const API_PORT = 6443;

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface ClusterShape {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** The API endpoint clients and nodes use (the floating IP): controlPlaneEndpoint and a certificate SAN. */
  readonly endpointAddress: string;
  /** Further API server certificate SANs (the load balancer VIP inside the subnet). */
  readonly extraCertSans: readonly string[];
  readonly podCidr: string;
  readonly serviceCidr: string;
}

export interface NodeRegistration {
  readonly name: string;
  /** The node's address in the node subnet: where its API server (control plane) advertises itself. */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Undefined keeps kubeadm's default (the control-plane taint on control-plane nodes, none on workers). */
  readonly taints?: readonly Taint[];
}

export interface JoinCredentials {
  /** Bootstrap token, "<6 chars>.<16 chars>": valid only during a join window (JoinToken). */
  readonly token: string;
  /** "sha256:<hex>" of the cluster CA's SubjectPublicKeyInfo: pins the CA during discovery. */
  readonly caCertHash: string;
}

type ExtraArgs = { name: string; value: string }[];

const toArgs = (args: Record<string, string>): ExtraArgs =>
  Object.entries(args).map(([name, value]) => ({ name, value }));

function kubeletArgs(node: NodeRegistration): ExtraArgs {
  const labels = Object.entries(node.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  // The OpenStack cloud-controller-manager initializes nodes (provider ID, addresses, zones).
  return toArgs({
    "cloud-provider": "external",
    "node-ip": node.address,
    ...(labels ? { "node-labels": labels } : {}),
  });
}

function nodeRegistration(node: NodeRegistration) {
  return {
    name: node.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: kubeletArgs(node),
    ...(node.taints ? { taints: node.taints.map((t) => ({ ...t })) } : {}),
  };
}

const endpoint = (shape: ClusterShape) => `${shape.endpointAddress}:${API_PORT}`;

export function clusterConfiguration(shape: ClusterShape) {
  return {
    apiVersion: KUBEADM_API,
    kind: "ClusterConfiguration",
    clusterName: shape.clusterName,
    kubernetesVersion: `v${shape.kubernetesVersion}`,
    controlPlaneEndpoint: endpoint(shape),
    networking: { podSubnet: shape.podCidr, serviceSubnet: shape.serviceCidr, dnsDomain: "cluster.local" },
    apiServer: {
      certSANs: [shape.endpointAddress, ...shape.extraCertSans],
      // Audit log, Secrets encrypted at rest, Pod Security defaults, kubelet certificates verified.
      extraArgs: toArgs(apiServerArgs()),
      extraVolumes: apiServerVolumes.map((volume) => ({ ...volume })),
    },
    controllerManager: { extraArgs: toArgs({ profiling: "false" }) },
    scheduler: { extraArgs: toArgs({ profiling: "false" }) },
    // Matches the CA keys Pulumi generates (ECDSA P-256) for the certificates kubeadm signs on the node.
    encryptionAlgorithm: "ECDSA-P256",
  };
}

export const kubeletConfiguration = {
  apiVersion: "kubelet.config.k8s.io/v1beta1",
  kind: "KubeletConfiguration",
  cgroupDriver: "systemd",
  // Keep the node alive under pressure: reserve room for the OS and the kubelet itself.
  systemReserved: { cpu: "100m", memory: "256Mi" },
  kubeReserved: { cpu: "100m", memory: "256Mi" },
  // Serving certificates signed by the cluster CA (through a CSR that kubelet-csr-approver checks),
  // so the API server can verify the kubelet (--kubelet-certificate-authority); both rotate.
  serverTLSBootstrap: true,
  rotateCertificates: true,
} as const;

/** kubeadm's group and usages for node-join tokens (the same for the token `pulumi up` mints). */
export const JOIN_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token";

/**
 * The first control-plane node: InitConfiguration + ClusterConfiguration + KubeletConfiguration.
 * `kubeadm init` registers the join token for the first window (`joinWindowMinutes`), so the nodes
 * created with the cluster join at once; `pulumi up` opens every later window (JoinToken).
 */
export function initDocuments(
  shape: ClusterShape,
  node: NodeRegistration,
  join: JoinCredentials,
  joinWindowMinutes: number,
): string {
  const init = {
    apiVersion: KUBEADM_API,
    kind: "InitConfiguration",
    bootstrapTokens: [
      {
        token: join.token,
        description: "node joins, minted by pulumi up",
        ttl: `${joinWindowMinutes}m0s`,
        usages: ["signing", "authentication"],
        groups: [JOIN_TOKEN_GROUP],
      },
    ],
    nodeRegistration: nodeRegistration(node),
    localAPIEndpoint: { advertiseAddress: node.address, bindPort: API_PORT },
  };
  return toDocuments([init, clusterConfiguration(shape), kubeletConfiguration]);
}

/**
 * Every other node: a JoinConfiguration (with the control-plane section for control-plane nodes).
 * No KubeletConfiguration: `kubeadm join` ignores one (it warns "Ignored configuration document ...
 * KubeletConfiguration") and gives every joining kubelet the cluster-wide configuration that
 * `kubeadm init` uploaded (the kubelet-config ConfigMap, from initDocuments). Per-node kubelet
 * settings go through nodeRegistration.kubeletExtraArgs.
 */
export function joinDocuments(
  shape: ClusterShape,
  node: NodeRegistration,
  join: JoinCredentials,
  controlPlane: boolean,
): string {
  const document = {
    apiVersion: KUBEADM_API,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: { apiServerEndpoint: endpoint(shape), token: join.token, caCertHashes: [join.caCertHash] },
    },
    nodeRegistration: nodeRegistration(node),
    // Shared keys (CAs, service-account key) are written by cloud-init, so no --certificate-key is needed.
    ...(controlPlane
      ? { controlPlane: { localAPIEndpoint: { advertiseAddress: node.address, bindPort: API_PORT } } }
      : {}),
  };
  return toDocuments([document]);
}

function toDocuments(documents: readonly object[]): string {
  return documents.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
