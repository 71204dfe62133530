/**
 * Keys of the Istio mesh (components/mesh); the observability stack's are in observability.ts.
 * Revisions and tags are YAML documents because Pulumi.yaml cannot type a map; cross-key rules
 * (a tag points at a listed revision, prod guard rails) live in stacks/meshChecks.ts.
 */
import { z } from "zod";
import { istio } from "../../lib/versions";
import { key } from "../spec";
import { cidr, dnsLabel, exactVersion, ipv4, kubernetesQualifiedName } from "../types";

/** A revision tag or namespace name: a DNS label (the tag becomes part of webhook and Service names). */
const tagName = dnsLabel(40);

export const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, "expected a Kubernetes quantity such as 100m, 2 or 512Mi");

const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });
export const containerResources = z.strictObject({
  requests: resourceList.default({}),
  limits: resourceList.default({}),
});
export type ContainerResources = z.output<typeof containerResources>;

const annotationKey = kubernetesQualifiedName("annotation key");

/** A percentage given as a string (Pulumi.yaml has no number type): "1", "0.5", "100". */
const percentage = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "expected a percentage such as 1, 0.5 or 100")
  .transform(Number)
  .refine((n) => n >= 0 && n <= 100, "must be between 0 and 100");

export const meshKeys = {
  istioRevisions: key({
    type: "array",
    description:
      "Istio versions to run side by side, one istiod per revision (1.31.1 runs as revision 1-31-1). One, or two during a canary upgrade.",
    schema: z
      .array(exactVersion)
      .min(1, "list at least one Istio version")
      .max(2, "at most two revisions at a time (old and canary)")
      .refine((versions) => new Set(versions).size === versions.length, "versions must be unique"),
    default: [istio.version],
  }),
  istioRevisionTags: key({
    type: "string",
    yamlDocument: true,
    description:
      "Revision tags, as a YAML map of tag to one of istioRevisions (e.g. {default: 1.31.1, prod-stable: 1.31.1}). Namespaces opt in with istio.io/rev=<tag>; moving a tag is the canary switch. 'default' is required.",
    schema: z.record(tagName, exactVersion),
    default: { default: istio.version, "prod-stable": istio.version },
  }),
  meshInjectionTag: key({
    type: "string",
    description:
      "The revision tag application namespaces should use (exported as the injectionLabel output, istio.io/rev=<tag>); one of istioRevisionTags.",
    schema: tagName,
    default: "prod-stable",
  }),
  meshNamespaces: key({
    type: "string",
    yamlDocument: true,
    description:
      "Application namespaces to create in the mesh, as a YAML map of namespace to revision tag; each is labelled istio.io/rev=<tag> (never istio-injection).",
    schema: z.record(dnsLabel(63), tagName),
    default: {},
  }),
  meshMtlsMode: key({
    type: "string",
    description:
      "Mesh-wide mTLS (PeerAuthentication default in istio-system): STRICT, or PERMISSIVE (dev only, as the policy pack requires). Prefer meshPermissiveNamespaces for exceptions.",
    schema: z.enum(["STRICT", "PERMISSIVE"]),
    default: "STRICT",
  }),
  meshNamespaceIsolation: key({
    type: "boolean",
    description:
      "Each namespace of meshNamespaces admits requests only from mesh workloads of its own namespace and of the ingress gateway's (an AuthorizationPolicy enforced by the sidecars or, in ambient, ztunnel); other cross-namespace calls need an ALLOW policy of the team's own.",
    schema: z.boolean(),
    default: { perEnvironment: { dev: false, staging: true, prod: true } },
  }),
  meshPermissiveNamespaces: key({
    type: "array",
    description:
      "Namespaces that accept plaintext as well as mTLS (a PERMISSIVE PeerAuthentication in each), e.g. while migrating workloads into the mesh. dev only: staging and prod stay STRICT.",
    schema: z.array(dnsLabel(63)),
    default: [],
  }),
  meshOutboundTrafficPolicy: key({
    type: "string",
    description:
      "meshConfig.outboundTrafficPolicy: ALLOW_ANY lets sidecars reach unknown hosts; REGISTRY_ONLY only what a ServiceEntry declares.",
    schema: z.enum(["ALLOW_ANY", "REGISTRY_ONLY"]),
    default: "ALLOW_ANY",
  }),
  meshHoldApplicationUntilProxyStarts: key({
    type: "boolean",
    description:
      "Start application containers only once the sidecar is ready (meshConfig.defaultConfig.holdApplicationUntilProxyStarts).",
    schema: z.boolean(),
    default: true,
  }),
  meshAccessLogging: key({
    type: "boolean",
    description: "Envoy access logs for every proxy, through a mesh-wide Telemetry resource.",
    schema: z.boolean(),
    default: true,
  }),
  meshTraceSamplingPercent: key({
    type: "string",
    description: "Percentage of requests traced (0-100) by the mesh-wide Telemetry, sent to Jaeger.",
    schema: percentage,
    default: { perEnvironment: { dev: "100", staging: "10", prod: "1" } },
  }),
  istiodMinReplicas: key({
    type: "integer",
    description:
      "Minimum istiod replicas per revision (HPA floor); 2 or more so its PodDisruptionBudget never blocks a node drain.",
    schema: z.int().min(1).max(10),
    default: { perEnvironment: { dev: 1, staging: 2, prod: 2 } },
  }),
  ingressGatewayNamespace: key({
    type: "string",
    description: "Namespace of the ingress gateway (its own, as Istio recommends).",
    schema: dnsLabel(63),
    default: "istio-ingress",
  }),
  ingressGatewayReplicas: key({
    type: "integer",
    description: "Ingress gateway replicas (the autoscaler's floor). prod requires at least 2.",
    schema: z.int().min(1).max(50),
    default: { perEnvironment: { dev: 1, staging: 2, prod: 3 } },
  }),
  ingressGatewayMaxReplicas: key({
    type: "integer",
    description: "Ingress gateway autoscaler ceiling; equal to ingressGatewayReplicas disables autoscaling.",
    schema: z.int().min(1).max(100),
    default: { perEnvironment: { dev: 1, staging: 4, prod: 6 } },
  }),
  ingressGatewayPodDisruptionBudget: key({
    type: "boolean",
    description: "A PodDisruptionBudget (minAvailable 1) for the ingress gateway; required in prod.",
    schema: z.boolean(),
    default: { perEnvironment: { dev: false, staging: true, prod: true } },
  }),
  ingressGatewayResources: key({
    type: "string",
    yamlDocument: true,
    description: "Ingress gateway container resources, as YAML {requests: {cpu, memory}, limits: {cpu, memory}}.",
    schema: containerResources,
    default: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
  }),
  ingressGatewayExternalTrafficPolicy: key({
    type: "string",
    description:
      "externalTrafficPolicy of the gateway's LoadBalancer Service: Cluster (any node forwards) or Local (only nodes running a gateway pod; keeps the source IP without PROXY protocol).",
    schema: z.enum(["Cluster", "Local"]),
    default: "Cluster",
  }),
  ingressGatewayFloatingIp: key({
    type: "string",
    description:
      "An existing floating IP for the gateway's Octavia load balancer (spec.loadBalancerIP, kept on delete). Unset: OCCM allocates one from externalNetwork.",
    schema: ipv4,
    optional: true,
  }),
  ingressGatewayProxyProtocol: key({
    type: "boolean",
    description:
      "Pass client IPs through Octavia with the PROXY protocol (Service annotation plus the gateway's gatewayTopology.proxyProtocol). Everything reaching the gateway must then speak PROXY.",
    schema: z.boolean(),
    default: false,
  }),
  ingressGatewaySourceRanges: key({
    type: "array",
    description:
      "CIDRs allowed to reach the gateway's load balancer (loadBalancerSourceRanges, Octavia ≥ 2.12). Empty: everyone.",
    schema: z.array(cidr),
    default: [],
  }),
  ingressGatewayAnnotations: key({
    type: "string",
    yamlDocument: true,
    description:
      "Extra annotations for the gateway's Service, as a YAML map (e.g. loadbalancer.openstack.org/flavor-id, .../availability-zone).",
    schema: z.record(annotationKey, z.string()),
    default: {},
  }),
  egressGateway: key({
    type: "boolean",
    description:
      "Also install an egress gateway in its own namespace istio-egress: the gateway chart (ClusterIP) in sidecar mode, an egress waypoint in ambient.",
    schema: z.boolean(),
    default: false,
  }),
  meshDataplaneMode: key({
    type: "string",
    description:
      "Istio's data plane: sidecar (an Envoy in every pod; namespaces labelled istio.io/rev=<tag>) or ambient (a per-node ztunnel for mTLS, L4 policy and TCP telemetry, waypoints for L7; namespaces labelled istio.io/dataplane-mode=ambient). See docs/mesh-modes.md.",
    schema: z.enum(["sidecar", "ambient"]),
    default: "sidecar",
  }),
  istioCni: key({
    type: "boolean",
    description:
      "Install the istio-cni node agent, so pods in the mesh need no privileged istio-init container (Pod Security restricted becomes possible for them). Unset: on in staging and prod, off in dev; ambient always has it (false is refused).",
    schema: z.boolean(),
    optional: true,
    defaultText: "staging, prod, ambient: true; dev: false",
  }),
  ingressApi: key({
    type: "string",
    description:
      "How ingress is configured: istio-gateway (Istio's gateway chart; Istio Gateway and VirtualService objects) or gateway-api (a Kubernetes Gateway API Gateway of Istio's class istio that applications attach HTTPRoutes to; the standard-channel CRDs are installed and kept on destroy).",
    schema: z.enum(["istio-gateway", "gateway-api"]),
    default: "istio-gateway",
  }),
  meshWaypoints: key({
    type: "array",
    description:
      "Ambient only: namespaces of meshNamespaces that get a namespace-wide waypoint proxy (L7 routing and policy, HTTP metrics and traces) on the namespace's revision tag.",
    schema: z.array(dnsLabel(63)).refine((names) => new Set(names).size === names.length, "namespaces must be unique"),
    default: [],
  }),
  meshWaypointReplicas: key({
    type: "integer",
    description: "Replicas of each waypoint (with a PodDisruptionBudget from 2 on); prod requires at least 2.",
    schema: z.int().min(1).max(20),
    default: { perEnvironment: { dev: 1, staging: 2, prod: 2 } },
  }),
};

/** Whether the istio-cni node agent is installed: always in ambient, else as set, else staging and prod. */
export function istioCniEnabled(config: {
  readonly meshDataplaneMode: "sidecar" | "ambient";
  readonly istioCni?: boolean;
  readonly environment: string;
}): boolean {
  if (config.meshDataplaneMode === "ambient") return true;
  return config.istioCni ?? config.environment !== "dev";
}
