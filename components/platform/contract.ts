/**
 * The stack outputs as a consumer sees them through a StackReference: plain values, no Outputs.
 * Types only (no imports), so another project can import or copy this file without the platform's
 * dependencies. The reviewed, machine-checked description of the same contract is
 * tests/fixtures/output-contract.json (see docs/outputs.md, "Changing the contract"); the compile-time check
 * in tests/outputs-contract.test.ts keeps this interface and `stackOutputs()` in step.
 */

/** Ids of the per-role security groups. */
export interface PlatformSecurityGroupIds {
  readonly controlPlane: string;
  readonly worker: string;
  /** Null when the API is served on a floating IP (single control-plane node). */
  readonly apiLoadBalancer: string | null;
}

export interface PlatformNetwork {
  readonly networkId: string;
  readonly subnetId: string;
  /** Always set since `existingRouterId` is required in existing mode; typed nullable for older stacks. */
  readonly routerId: string | null;
  readonly nodeCidr: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly externalNetworkId: string;
  readonly securityGroupIds: PlatformSecurityGroupIds;
}

export interface PlatformOutputs {
  /** Version of the output contract; bumped on a breaking change. */
  readonly contractVersion: number;
  /** dev, staging or prod. */
  readonly environment: string;
  readonly clusterName: string;
  /** Null for an existing cluster (clusterMode existing: no OpenStack network managed here). */
  readonly network: PlatformNetwork | null;
  /** Admin kubeconfig of the cluster, a Pulumi secret; null without a cluster (clusterMode openstack-only). */
  readonly kubeconfig: string | null;
  /** https://<address>:6443; null for an existing cluster (see its kubeconfig). */
  readonly apiEndpoint: string | null;
  /** Node names and fixed addresses; null without OpenStack nodes. */
  readonly nodes: PlatformNodes | null;
  /**
   * The label a namespace carries to join the mesh, as a label map: the stable revision tag in sidecar
   * mode (`{ "istio.io/rev": "prod-stable" }`), the ambient data plane in ambient mode
   * (`{ "istio.io/dataplane-mode": "ambient" }`). Null without a cluster (clusterMode openstack-only).
   */
  readonly injectionLabel: Readonly<Record<string, string>> | null;
  /** The Istio mesh; null without a cluster. */
  readonly mesh: PlatformMesh | null;
  /** How to reach the observability tools; null without a cluster. */
  readonly observability: PlatformObservability | null;
}

export interface PlatformMesh {
  readonly ingressGateway: {
    readonly namespace: string;
    /** The LoadBalancer Service (also the Helm release) of the ingress gateway. */
    readonly service: string;
    /** The Octavia load balancer's floating IP; null until OCCM assigned one. */
    readonly address: string | null;
  };
  /** Installed istiod revisions: one, or two during a canary. */
  readonly revisions: readonly { readonly version: string; readonly revision: string }[];
  /** Revision tag → revision it points at. */
  readonly tags: Readonly<Record<string, string>>;
  /** The revision of the `default` tag (cluster-wide validation). */
  readonly defaultRevision: string;
  /** How workloads join the mesh: sidecars, or ambient (ztunnel, and waypoints for L7). */
  readonly dataplaneMode: "sidecar" | "ambient";
  /** How ingress is configured: Istio's gateway chart, or a Kubernetes Gateway API Gateway. */
  readonly ingressApi: "istio-gateway" | "gateway-api";
  /** The tag a team's own waypoints and Gateways carry as `istio.io/rev`, to follow the stack's canaries. */
  readonly revisionTag: string;
  /** The Gateway API ingress Gateway to attach HTTPRoutes to; null with `ingressApi: istio-gateway`. */
  readonly gateway: PlatformGateway | null;
}

export interface PlatformGateway {
  readonly name: string;
  readonly namespace: string;
  readonly gatewayClassName: string;
  /** Its listeners' names (`http`, and one pair per host the platform publishes). */
  readonly listeners: readonly string[];
  /** Ready to spread into an HTTPRoute's `parentRefs` (the plain-HTTP listener). */
  readonly parentRef: {
    readonly group: string;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
    readonly sectionName: string;
  };
  /** The label a route's (or ListenerSet's) namespace needs for the Gateway to accept it. */
  readonly routeNamespaceLabel: Readonly<Record<string, string>>;
}

export interface PlatformAccess {
  /** Run it, then open the URL. */
  readonly command: string;
  readonly url: string;
}

export interface PlatformObservability {
  /** externalUrl: Kiali through the ingress gateway over TLS, when kialiHost is set. */
  readonly kiali: PlatformAccess & { readonly externalUrl: string | null };
  /** externalUrl: Grafana on the same host under /grafana, when kialiHost is set. */
  readonly grafana: PlatformAccess & { readonly externalUrl: string | null };
  readonly tracing: PlatformAccess;
  readonly prometheus: PlatformAccess;
}

export interface PlatformNode {
  readonly name: string;
  readonly address: string;
}

export interface PlatformNodes {
  readonly controlPlane: readonly PlatformNode[];
  /** Worker pool name → its nodes. */
  readonly workers: Readonly<Record<string, readonly PlatformNode[]>>;
}

/**
 * Outputs the contract names that a layer still has to add (see `pending` in the contract file):
 * none today. Add a name here and `"pending": "<layer>"` there to promise an output before it exists.
 */
export type PendingPlatformOutput = never;
