/**
 * Kubernetes Gateway API objects of the mesh, as pure data: the ingress Gateway of Istio's `istio`
 * class with its parameters ConfigMap, the namespace waypoints of the `istio-waypoint` class, and the
 * CRD bundle (standard channel) they need.
 *
 * How Istio turns these into running proxies (istio release-1.31, pilot/pkg/config/kube/gatewaycommon/
 * deploymentcontroller.go with istiod's files/kube-gateway.yaml): a Gateway `<name>` of class `istio`
 * gets a Deployment, Service and ServiceAccount `<name>-istio`; `spec.addresses[0]` (one IPAddress)
 * becomes the Service's `loadBalancerIP`; the ConfigMap named by `spec.infrastructure.parametersRef`
 * holds strategic-merge patches per generated object (keys `deployment`, `service`,
 * `horizontalPodAutoscaler`, `podDisruptionBudget`; the last two are only rendered when present).
 * The Gateway's `istio.io/rev` label picks the istiod revision (or tag) that manages it.
 */
import { stringify } from "yaml";
import { type ContainerResources, OCCM, PROXY_PROTOCOL_POD_CONFIG } from "./values";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
export const INGRESS_GATEWAY_CLASS = "istio";
export const WAYPOINT_GATEWAY_CLASS = "istio-waypoint";
/** The ingress Gateway is named after its role; Istio names what it generates for it `ingress-istio`. */
export const INGRESS_GATEWAY_NAME = "ingress";
/** The label of Gateway API's cross-namespace routing guide: namespaces allowed to attach routes. */
export const ROUTE_NAMESPACE_LABEL = { "shared-gateway-access": "true" } as const;
/** The ingress Gateway's plain-HTTP listener: where applications' HTTPRoutes attach. */
export const HTTP_LISTENER = "http";
/** The waypoint name istioctl uses (`istioctl waypoint apply`); namespaces point at it with istio.io/use-waypoint. */
export const WAYPOINT_NAME = "waypoint";

interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Listener {
  readonly name: string;
  readonly port: number;
  readonly protocol: "HTTP" | "HTTPS" | "HBONE";
  readonly hostname?: string;
  readonly tls?: { readonly mode: "Terminate"; readonly certificateRefs: readonly { readonly name: string }[] };
  readonly allowedRoutes?: {
    readonly namespaces: {
      readonly from: "Same" | "Selector" | "All";
      readonly selector?: { readonly matchLabels: Readonly<Record<string, string>> };
    };
  };
}

export interface Gateway {
  readonly apiVersion: "gateway.networking.k8s.io/v1";
  readonly kind: "Gateway";
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly gatewayClassName: string;
    readonly addresses?: readonly { readonly type: "IPAddress"; readonly value: string }[];
    readonly infrastructure?: {
      readonly parametersRef: { readonly group: ""; readonly kind: "ConfigMap"; readonly name: string };
    };
    readonly allowedListeners?: Listener["allowedRoutes"];
    readonly listeners: readonly Listener[];
  };
}

export interface ConfigMap {
  readonly apiVersion: "v1";
  readonly kind: "ConfigMap";
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
}

/** The ingress gateway's settings, the same the classic `gateway` chart gets (components/mesh/values.ts). */
export interface IngressGatewaySettings {
  readonly name: string;
  readonly namespace: string;
  /** Revision tag that manages it (istio.io/rev on the Gateway). */
  readonly tag: string;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly podDisruptionBudget: boolean;
  readonly resources: ContainerResources;
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  readonly floatingIp?: string;
  readonly proxyProtocol: boolean;
  readonly sourceRanges: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  /** NodePort where the cloud has no load-balancer service; unset: LoadBalancer. */
  readonly serviceType?: "LoadBalancer" | "NodePort" | "ClusterIP";
  /** Fixed NodePorts for HTTP (80) and HTTPS (443), where clients reach them directly. */
  readonly nodePorts?: { readonly http: number; readonly https: number };
}

/** Istio names the generated Deployment, Service and ServiceAccount `<gateway>-<class>`. */
export function generatedName(gateway: string, gatewayClass = INGRESS_GATEWAY_CLASS): string {
  return `${gateway}-${gatewayClass}`;
}

export function parametersName(gateway: string): string {
  return `${gateway}-gateway-parameters`;
}

const routesFromLabelledNamespaces = {
  namespaces: { from: "Selector", selector: { matchLabels: ROUTE_NAMESPACE_LABEL } },
} as const;

/**
 * Fixed NodePorts for the ports the Gateway listens on (Istio generates one Service port per
 * listener port); the overlay is a strategic merge, keyed by port, so only existing ports are named.
 */
function fixedNodePorts(settings: IngressGatewaySettings, listeners: readonly Listener[]) {
  const nodePorts = settings.nodePorts;
  if (!nodePorts) return [];
  const byPort: Record<number, number> = { 80: nodePorts.http, 443: nodePorts.https };
  const ports = [...new Set([80, ...listeners.map((listener) => listener.port)])].filter((port) => port in byPort);
  return ports.map((port) => ({ port, nodePort: byPort[port] }));
}

/** The overlays Istio applies to what it generates for the ingress Gateway. */
export function ingressGatewayParameters(
  settings: IngressGatewaySettings,
  listeners: readonly Listener[] = [],
): ConfigMap {
  const ports = fixedNodePorts(settings, listeners);
  const serviceAnnotations: Record<string, string> = { ...settings.annotations };
  if (settings.proxyProtocol) serviceAnnotations[OCCM.proxyProtocol] = "true";
  if (settings.floatingIp) serviceAnnotations[OCCM.keepFloatingIp] = "true";
  const autoscale = settings.maxReplicas > settings.replicas;
  const overlays: Record<string, object> = {
    service: {
      ...(Object.keys(serviceAnnotations).length > 0 ? { metadata: { annotations: serviceAnnotations } } : {}),
      spec: {
        ...(settings.externalTrafficPolicy ? { externalTrafficPolicy: settings.externalTrafficPolicy } : {}),
        ...(settings.sourceRanges.length > 0 && (settings.serviceType ?? "LoadBalancer") === "LoadBalancer"
          ? { loadBalancerSourceRanges: settings.sourceRanges }
          : {}),
        ...(ports.length > 0 ? { ports } : {}),
      },
    },
    deployment: {
      spec: {
        // With an autoscaler the HPA owns the replica count; without one it is fixed here.
        ...(autoscale ? {} : { replicas: settings.replicas }),
        template: {
          ...(settings.proxyProtocol
            ? { metadata: { annotations: { "proxy.istio.io/config": PROXY_PROTOCOL_POD_CONFIG } } }
            : {}),
          spec: { containers: [{ name: "istio-proxy", resources: settings.resources }] },
        },
      },
    },
    ...(autoscale
      ? { horizontalPodAutoscaler: { spec: { minReplicas: settings.replicas, maxReplicas: settings.maxReplicas } } }
      : {}),
    ...(settings.podDisruptionBudget ? { podDisruptionBudget: { spec: { minAvailable: 1 } } } : {}),
  };
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: parametersName(settings.name), namespace: settings.namespace },
    data: Object.fromEntries(Object.entries(overlays).map(([key, overlay]) => [key, stringify(overlay)])),
  };
}

export function ingressGateway(settings: IngressGatewaySettings, listeners: readonly Listener[] = []): Gateway {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: {
      name: settings.name,
      namespace: settings.namespace,
      labels: { "istio.io/rev": settings.tag },
      // Istio's way to choose the generated Service's type (istio.io: Gateway API deployment, annotations).
      ...(settings.serviceType && settings.serviceType !== "LoadBalancer"
        ? { annotations: { "networking.istio.io/service-type": settings.serviceType } }
        : {}),
    },
    spec: {
      gatewayClassName: INGRESS_GATEWAY_CLASS,
      ...(settings.floatingIp ? { addresses: [{ type: "IPAddress", value: settings.floatingIp }] } : {}),
      infrastructure: { parametersRef: { group: "", kind: "ConfigMap", name: parametersName(settings.name) } },
      // HTTPS for applications: a ListenerSet with the team's own certificate, from the same namespaces.
      allowedListeners: routesFromLabelledNamespaces,
      listeners: [
        { name: HTTP_LISTENER, port: 80, protocol: "HTTP", allowedRoutes: routesFromLabelledNamespaces },
        ...listeners,
      ],
    },
  };
}

/** A namespace-wide waypoint for service traffic, as `istioctl waypoint generate --for service`. */
export function waypoint(namespace: string, tag: string): Gateway {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: {
      name: WAYPOINT_NAME,
      namespace,
      labels: { "istio.io/waypoint-for": "service", "istio.io/rev": tag },
    },
    spec: { gatewayClassName: WAYPOINT_GATEWAY_CLASS, listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  };
}

/**
 * Defaults for every waypoint (istiod's `gatewayClasses` value, rendered by the chart as the
 * `gateway.istio.io/defaults-for-class` ConfigMap): a fixed replica count, and a PodDisruptionBudget
 * once there are two, so a node drain never takes a namespace's L7 path away.
 */
export function waypointClassDefaults(replicas: number): Record<string, object> {
  return {
    [WAYPOINT_GATEWAY_CLASS]: {
      deployment: { spec: { replicas } },
      ...(replicas >= 2 ? { podDisruptionBudget: { spec: { minAvailable: 1 } } } : {}),
    },
  };
}

export interface HTTPRoute {
  readonly apiVersion: "gateway.networking.k8s.io/v1";
  readonly kind: "HTTPRoute";
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly parentRefs: readonly {
      readonly group: typeof GATEWAY_API_GROUP;
      readonly kind: "Gateway";
      readonly name: string;
      readonly namespace: string;
      readonly sectionName: string;
    }[];
    readonly hostnames: readonly string[];
    readonly rules: readonly {
      readonly matches?: readonly { readonly path: { readonly type: "PathPrefix"; readonly value: string } }[];
      readonly backendRefs?: readonly { readonly name: string; readonly port: number }[];
      readonly filters?: readonly {
        readonly type: "RequestRedirect";
        readonly requestRedirect: { readonly scheme: "https"; readonly statusCode: 301 };
      }[];
    }[];
  };
}

/** A service published on its own host name through the ingress Gateway, over TLS. */
export interface HostExposure {
  /** Names the listeners (https-<name>, http-<name>) and the routes. */
  readonly name: string;
  readonly host: string;
  /** kubernetes.io/tls Secret in the Gateway's namespace (no ReferenceGrant needed). */
  readonly tlsSecret: string;
  readonly gateway: { readonly name: string; readonly namespace: string };
  /** The namespace of the backend Services and of the routes: the only one these listeners accept routes from. */
  readonly namespace: string;
  /** Services by path prefix ("/" for the rest); the longest prefix wins, as Gateway API specifies. */
  readonly paths: readonly { readonly pathPrefix: string; readonly name: string; readonly port: number }[];
}

/**
 * What the classic path does with an Istio Gateway (HTTPS with the certificate, HTTP only redirects),
 * in Gateway API terms: two listeners on the ingress Gateway for the host, accepting routes only from
 * the backend's namespace, an HTTPRoute to the backend on the HTTPS one and a redirect on the HTTP one.
 */
export function hostExposure(exposure: HostExposure): { listeners: Listener[]; routes: HTTPRoute[] } {
  const allowedRoutes = {
    namespaces: {
      from: "Selector",
      selector: { matchLabels: { "kubernetes.io/metadata.name": exposure.namespace } },
    },
  } as const;
  const https = `https-${exposure.name}`;
  const http = `http-${exposure.name}`;
  const route = (name: string, sectionName: string, rules: HTTPRoute["spec"]["rules"]): HTTPRoute => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: exposure.namespace },
    spec: {
      parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", ...exposure.gateway, sectionName }],
      hostnames: [exposure.host],
      rules,
    },
  });
  return {
    listeners: [
      {
        name: https,
        port: 443,
        protocol: "HTTPS",
        hostname: exposure.host,
        tls: { mode: "Terminate", certificateRefs: [{ name: exposure.tlsSecret }] },
        allowedRoutes,
      },
      { name: http, port: 80, protocol: "HTTP", hostname: exposure.host, allowedRoutes },
    ],
    routes: [
      route(
        exposure.name,
        https,
        exposure.paths.map(({ pathPrefix, name, port }) => ({
          ...(pathPrefix === "/" ? {} : { matches: [{ path: { type: "PathPrefix", value: pathPrefix } }] }),
          backendRefs: [{ name, port }],
        })),
      ),
      route(`${exposure.name}-redirect`, http, [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
      ]),
    ],
  };
}
