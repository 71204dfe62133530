/**
 * Helm values of Istio's charts (base, istiod, gateway, cni, ztunnel) as pure functions of typed settings. Only the
 * parts we set are typed; names follow the charts' values.yaml at 1.31.
 */
import { ISTIO_NAMESPACE } from "../../lib/istio";
import type { Revision } from "./revisions";

/** Kubernetes requests and limits of a container, as the charts take them. */
export interface ContainerResources {
  readonly requests: { readonly cpu?: string; readonly memory?: string };
  readonly limits: { readonly cpu?: string; readonly memory?: string };
}

/** The mesh's settings, taken from the stack config (components/platform/mesh.ts maps them). */
export interface MeshSettings {
  readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
  readonly holdApplicationUntilProxyStarts: boolean;
  readonly istiodMinReplicas: number;
  /** meshConfig.extensionProviders entry for traces (the tracing backend of the observability layer). */
  readonly tracing: TracingProvider;
}

/**
 * How workloads join the mesh. Ambient follows istio.io "Install with Helm" (ambient): istiod and
 * istio-cni with `profile: ambient` (read by each chart's templates/zzz_profile.yaml, which merges
 * files/profile-ambient.yaml under our values: PILOT_ENABLE_AMBIENT, HBONE proxy metadata, CNI ambient
 * redirection), then ztunnel. With istio-cni, every revision's injector leaves out the privileged
 * istio-init container (`cni.enabled`, the path of values.yaml; `pilot.cni.enabled` in the docs is the
 * same value under its legacy prefix).
 */
export interface DataPlaneSettings {
  readonly mode: "sidecar" | "ambient";
  /** The istio-cni node agent is installed (always in ambient). */
  readonly cni: boolean;
  /** Ambient: defaults for every waypoint (istiod's gatewayClasses value), see gatewayApi.ts. */
  readonly waypointClassDefaults?: Readonly<Record<string, object>>;
}

export interface TracingProvider {
  readonly name: string;
  readonly service: string;
  readonly port: number;
}

export interface GatewaySettings {
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly podDisruptionBudget: boolean;
  readonly resources: ContainerResources;
  /** NodePort where the cloud has no load-balancer service (loadBalancerProvider none). */
  readonly serviceType: "LoadBalancer" | "NodePort" | "ClusterIP";
  /** Fixed NodePorts for HTTP and HTTPS, where clients reach them directly (no amphora in front). */
  readonly nodePorts?: { readonly http: number; readonly https: number };
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  readonly floatingIp?: string;
  readonly proxyProtocol: boolean;
  readonly sourceRanges: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  /** Revision tag the gateway's pods are injected by (istio.io/rev on the pods). */
  readonly tag: string;
}

export interface BaseValues {
  readonly defaultRevision: string;
  readonly global: { readonly istioNamespace: string };
}

export interface MeshConfigValues {
  readonly enablePrometheusMerge: boolean;
  readonly enableTracing: boolean;
  readonly outboundTrafficPolicy: { readonly mode: MeshSettings["outboundTrafficPolicy"] };
  readonly defaultConfig: { readonly holdApplicationUntilProxyStarts: boolean };
  readonly extensionProviders: readonly {
    readonly name: string;
    readonly opentelemetry: { readonly service: string; readonly port: number };
  }[];
}

export interface IstiodValues {
  readonly profile?: "ambient";
  readonly cni?: { readonly enabled: true };
  readonly gatewayClasses?: Readonly<Record<string, object>>;
  readonly revision: string;
  readonly autoscaleMin: number;
  readonly autoscaleMax: number;
  readonly global: { readonly istioNamespace: string };
  readonly meshConfig: MeshConfigValues;
}

export interface GatewayValues {
  readonly revision: string;
  readonly replicaCount: number;
  readonly autoscaling: {
    readonly enabled: boolean;
    readonly minReplicas: number;
    readonly maxReplicas: number;
  };
  readonly podDisruptionBudget: { readonly minAvailable?: number };
  readonly resources: ContainerResources;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly service: {
    readonly type: GatewaySettings["serviceType"];
    readonly annotations: Readonly<Record<string, string>>;
    readonly loadBalancerIP?: string;
    readonly loadBalancerSourceRanges?: readonly string[];
    readonly externalTrafficPolicy?: "Cluster" | "Local";
    readonly ports?: readonly GatewayServicePort[];
  };
}

export interface GatewayServicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: "TCP";
  readonly targetPort: number;
  readonly nodePort?: number;
}

/**
 * The gateway chart's Service ports (its values.yaml) with fixed NodePorts for HTTP and HTTPS:
 * the whole list, since Helm replaces a list rather than merging it.
 */
export function gatewayServicePorts(nodePorts: {
  readonly http: number;
  readonly https: number;
}): GatewayServicePort[] {
  return [
    { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
    { name: "http2", port: 80, protocol: "TCP", targetPort: 80, nodePort: nodePorts.http },
    { name: "https", port: 443, protocol: "TCP", targetPort: 443, nodePort: nodePorts.https },
  ];
}

export function baseValues(defaultRevision: Revision): BaseValues {
  return { defaultRevision: defaultRevision.name, global: { istioNamespace: ISTIO_NAMESPACE } };
}

function meshConfig(settings: MeshSettings): MeshConfigValues {
  return {
    enablePrometheusMerge: true,
    enableTracing: true,
    outboundTrafficPolicy: { mode: settings.outboundTrafficPolicy },
    defaultConfig: { holdApplicationUntilProxyStarts: settings.holdApplicationUntilProxyStarts },
    extensionProviders: [
      {
        name: settings.tracing.name,
        opentelemetry: { service: settings.tracing.service, port: settings.tracing.port },
      },
    ],
  };
}

export function istiodValues(revision: Revision, settings: MeshSettings, dataPlane: DataPlaneSettings): IstiodValues {
  const ambient = dataPlane.mode === "ambient";
  return {
    ...(ambient ? { profile: "ambient" } : {}),
    ...(dataPlane.cni ? { cni: { enabled: true } } : {}),
    ...(ambient && dataPlane.waypointClassDefaults ? { gatewayClasses: dataPlane.waypointClassDefaults } : {}),
    revision: revision.name,
    autoscaleMin: settings.istiodMinReplicas,
    autoscaleMax: Math.max(5, settings.istiodMinReplicas),
    global: { istioNamespace: ISTIO_NAMESPACE },
    meshConfig: meshConfig(settings),
  };
}

/** The istio-cni chart: chart defaults (paths /opt/cni/bin and /etc/cni/net.d are kubeadm's and Calico's). */
export function istioCniValues(dataPlane: DataPlaneSettings): { readonly profile?: "ambient" } {
  return dataPlane.mode === "ambient" ? { profile: "ambient" } : {};
}

/**
 * ztunnel is one DaemonSet per cluster, not per revision (its name is fixed): `revision` only picks
 * the istiod it takes its configuration and certificates from (istiod-<revision>:15012).
 */
export function ztunnelValues(revision: Revision): { readonly revision: string } {
  return { revision: revision.name };
}

/** Octavia, through the OpenStack cloud-controller-manager, serves the LoadBalancer Service. */
export const OCCM = {
  proxyProtocol: "loadbalancer.openstack.org/proxy-protocol",
  keepFloatingIp: "loadbalancer.openstack.org/keep-floatingip",
} as const;

/** Envoy must expect the PROXY header Octavia prepends, or every connection fails. */
export const PROXY_PROTOCOL_POD_CONFIG = JSON.stringify({ gatewayTopology: { proxyProtocol: {} } });

/** The gateway chart's own defaults that we keep (Prometheus scraping of the merged stats). */
const GATEWAY_POD_ANNOTATIONS = {
  "prometheus.io/port": "15020",
  "prometheus.io/scrape": "true",
  "prometheus.io/path": "/stats/prometheus",
  "inject.istio.io/templates": "gateway",
  "sidecar.istio.io/inject": "true",
} as const;

export function gatewayValues(settings: GatewaySettings): GatewayValues {
  const loadBalancer = settings.serviceType === "LoadBalancer";
  const annotations: Record<string, string> = { ...settings.annotations };
  if (loadBalancer && settings.proxyProtocol) annotations[OCCM.proxyProtocol] = "true";
  // A floating IP the user brought is theirs: OCCM must not release it with the Service.
  if (loadBalancer && settings.floatingIp) annotations[OCCM.keepFloatingIp] = "true";
  const autoscale = settings.maxReplicas > settings.replicas;
  return {
    revision: settings.tag,
    replicaCount: settings.replicas,
    autoscaling: { enabled: autoscale, minReplicas: settings.replicas, maxReplicas: settings.maxReplicas },
    podDisruptionBudget: settings.podDisruptionBudget ? { minAvailable: 1 } : {},
    resources: settings.resources,
    podAnnotations: {
      ...GATEWAY_POD_ANNOTATIONS,
      ...(loadBalancer && settings.proxyProtocol ? { "proxy.istio.io/config": PROXY_PROTOCOL_POD_CONFIG } : {}),
    },
    service: {
      type: settings.serviceType,
      annotations,
      ...(loadBalancer && settings.floatingIp ? { loadBalancerIP: settings.floatingIp } : {}),
      ...(loadBalancer && settings.sourceRanges.length > 0 ? { loadBalancerSourceRanges: settings.sourceRanges } : {}),
      ...(loadBalancer && settings.externalTrafficPolicy
        ? { externalTrafficPolicy: settings.externalTrafficPolicy }
        : {}),
      ...(settings.nodePorts && settings.serviceType !== "ClusterIP"
        ? { ports: gatewayServicePorts(settings.nodePorts) }
        : {}),
    },
  };
}
