/**
 * Helm values of the cluster add-ons as pure functions of typed inputs, so what reaches each chart
 * is tested without the engine. Key spellings follow each chart's values.yaml.
 */

/** Calico's VXLAN header over IPv4 (Calico's MTU guide). */
export const VXLAN_OVERHEAD = 50;

export interface CalicoInput {
  readonly podCidr: string;
  readonly networkMtu: number;
}

export interface TigeraOperatorValues {
  readonly installation: {
    readonly enabled: true;
    readonly cni: { readonly type: "Calico" };
    readonly calicoNetwork: {
      readonly bgp: "Disabled";
      readonly mtu: number;
      readonly ipPools: readonly {
        readonly cidr: string;
        readonly encapsulation: "VXLAN";
        readonly natOutgoing: "Enabled";
        readonly nodeSelector: string;
        readonly blockSize: number;
      }[];
    };
  };
  readonly apiServer: { readonly enabled: boolean };
  readonly goldmane: { readonly enabled: boolean };
  readonly whisker: { readonly enabled: boolean };
}

export function tigeraOperatorValues(input: CalicoInput): TigeraOperatorValues {
  return {
    installation: {
      enabled: true,
      cni: { type: "Calico" },
      calicoNetwork: {
        // VXLAN everywhere: Neutron's port security would drop unencapsulated pod addresses.
        bgp: "Disabled",
        mtu: input.networkMtu - VXLAN_OVERHEAD,
        ipPools: [
          { cidr: input.podCidr, encapsulation: "VXLAN", natOutgoing: "Enabled", nodeSelector: "all()", blockSize: 26 },
        ],
      },
    },
    apiServer: { enabled: false },
    goldmane: { enabled: false },
    whisker: { enabled: false },
  };
}

export interface CloudConfigInput {
  readonly authUrl: string;
  readonly region?: string;
  readonly applicationCredentialId: string;
  readonly applicationCredentialSecret: string;
  readonly floatingNetworkId: string;
  readonly subnetId: string;
  readonly clusterName: string;
  /** Octavia's provider, or none (no Octavia: LoadBalancer Services are not served). */
  readonly loadBalancerProvider: "amphora" | "ovn" | "none";
}

export interface Toleration {
  readonly key: string;
  readonly operator?: "Exists" | "Equal";
  readonly value?: string;
  readonly effect: "NoSchedule" | "NoExecute";
}

/**
 * Where the cloud-controller-manager may run: the chart's own tolerations (uninitialized nodes, the
 * control plane) plus the not-ready taint a node carries until its CNI runs. With it, OCCM (on the
 * host network) initialises nodes while Calico installs instead of after it, as upstream advises:
 * kubernetes.io blog 2025-02-14 "The Cloud Controller Manager Chicken and Egg Problem",
 * recommendation 4; kubernetes/cloud-provider-vsphere #339 (the same for vSphere's CCM).
 */
export const OCCM_TOLERATIONS: readonly Toleration[] = [
  { key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" },
  { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" },
];

/** The cloud.conf sections, keys spelled as cloud-provider-openstack reads them (dashes). */
export interface OccmValues {
  readonly tolerations: readonly Toleration[];
  readonly secret: { readonly enabled: true; readonly create: true; readonly name: string };
  readonly cloudConfig: {
    readonly global: Readonly<Record<string, string>>;
    readonly loadBalancer: Readonly<Record<string, string | boolean>>;
  };
  readonly cluster: { readonly name: string };
}

export const CLOUD_CONFIG_SECRET = "cloud-config";

/** cloud.conf's [LoadBalancer] (cloud-provider-openstack's using-openstack-cloud-controller-manager.md). */
function loadBalancerSection(input: CloudConfigInput): Readonly<Record<string, string | boolean>> {
  // No Octavia: OCCM must not try (a LoadBalancer Service would wait forever); the gateway uses NodePorts.
  if (input.loadBalancerProvider === "none") return { enabled: false };
  return {
    "floating-network-id": input.floatingNetworkId,
    "subnet-id": input.subnetId,
    "create-monitor": true,
    // The program owns the node ports' groups: the worker group admits the NodePorts (OCCM's own
    // group on the member ports would be stripped by `pulumi up --refresh`).
    "manage-security-groups": false,
    // OVN balances by SOURCE_IP_PORT only; with lb-provider=ovn, lb-method must say so.
    ...(input.loadBalancerProvider === "ovn" ? { "lb-provider": "ovn", "lb-method": "SOURCE_IP_PORT" } : {}),
  };
}

export function occmValues(input: CloudConfigInput): OccmValues {
  return {
    tolerations: OCCM_TOLERATIONS,
    secret: { enabled: true, create: true, name: CLOUD_CONFIG_SECRET },
    cloudConfig: {
      global: {
        "auth-url": input.authUrl,
        "application-credential-id": input.applicationCredentialId,
        "application-credential-secret": input.applicationCredentialSecret,
        ...(input.region ? { region: input.region } : {}),
      },
      loadBalancer: loadBalancerSection(input),
    },
    cluster: { name: input.clusterName },
  };
}

export interface CinderCsiValues {
  readonly secret: { readonly enabled: true; readonly create: false; readonly name: string; readonly filename: string };
  readonly csi: {
    readonly plugin: {
      readonly nodePlugin: { readonly podAnnotations: Readonly<Record<string, string>> };
      readonly controllerPlugin: { readonly podAnnotations: Readonly<Record<string, string>> };
    };
  };
  readonly storageClass: {
    readonly enabled: true;
    readonly delete: { readonly isDefault: boolean; readonly allowVolumeExpansion: boolean };
    readonly retain: { readonly isDefault: boolean; readonly allowVolumeExpansion: boolean };
  };
  readonly clusterID: string;
}

/** Names the credential in Cinder CSI's pods, so a rotated one restarts them. */
export const CLOUD_CREDENTIAL_ANNOTATION = "istio-openstack.io/cloud-credential-id";

/**
 * Reuses the cloud-controller-manager's secret (same namespace), so the credential lives in one
 * place. That chart rolls its pods when the cloud config changes (its checksum/config annotation);
 * this one has no such annotation and reads the secret once at start, so its pods carry the
 * credential's id: a rotated credential restarts them before the old one is deleted.
 */
export function cinderCsiValues(clusterName: string, credentialId: string): CinderCsiValues {
  const podAnnotations = { [CLOUD_CREDENTIAL_ANNOTATION]: credentialId };
  return {
    secret: { enabled: true, create: false, name: CLOUD_CONFIG_SECRET, filename: "cloud.conf" },
    csi: { plugin: { nodePlugin: { podAnnotations }, controllerPlugin: { podAnnotations } } },
    storageClass: {
      enabled: true,
      delete: { isDefault: true, allowVolumeExpansion: true },
      retain: { isDefault: false, allowVolumeExpansion: true },
    },
    clusterID: clusterName,
  };
}

export interface KubeletCsrApproverInput {
  /** Node names are `<clusterName>-<pool>-<index>[-g<generation>]` (components/names.ts). */
  readonly clusterName: string;
  /** Every address a node's kubelet may put in its serving certificate: the node subnet, floating IPs. */
  readonly ipPrefixes: readonly string[];
}

export interface KubeletCsrApproverValues {
  readonly providerRegex: string;
  readonly providerIpPrefixes: readonly string[];
  readonly bypassDnsResolution: true;
}

/**
 * postfinance/kubelet-csr-approver (the approver Kubernetes' kubeadm docs point to for
 * kubelet-serving CSRs, kubeadm-certs#kubelet-serving-certs): it approves a serving certificate only
 * for the node that asks (requestor system:node:<name> = CN), a DNS name that is that node's name and
 * matches providerRegex, and IP addresses inside providerIpPrefixes; everything else is denied.
 * Nova names are not in DNS, so the resolution check is off; the IP check still binds a certificate
 * to the cluster's own addresses. Value names as in the chart's values.yaml (1.2.14); that chart's
 * data is not in ../shared/charts, so they are checked by hand, not by the value-path test.
 */
export function kubeletCsrApproverValues(input: KubeletCsrApproverInput): KubeletCsrApproverValues {
  const escaped = input.clusterName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return {
    providerRegex: `^${escaped}-[a-z0-9-]+$`,
    providerIpPrefixes: [...input.ipPrefixes],
    bypassDnsResolution: true,
  };
}
