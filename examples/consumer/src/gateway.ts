/**
 * What the consumer adds for the platform's newer shapes (pure): in ambient mode a waypoint for its
 * namespace (its VirtualService split and circuit breaker are L7, and L7 runs in waypoints), and with
 * Gateway API ingress an HTTPRoute that publishes httpbin on the platform's ingress Gateway.
 */
import type { PlatformGateway } from "../../../components/platform/contract";
import { HTTPBIN_PORT } from "./samples";

export const WAYPOINT = "waypoint";

export interface GatewayApiObject<Kind extends string, Spec> {
  readonly apiVersion: "gateway.networking.k8s.io/v1";
  readonly kind: Kind;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string> };
  readonly spec: Spec;
}

/** A namespace waypoint, as `istioctl waypoint generate --for service`, on the platform's tag. */
export function namespaceWaypoint(
  namespace: string,
  revisionTag: string,
): GatewayApiObject<"Gateway", { gatewayClassName: string; listeners: object[] }> {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: {
      name: WAYPOINT,
      namespace,
      labels: { "istio.io/waypoint-for": "service", "istio.io/rev": revisionTag },
    },
    spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  };
}

/** httpbin on `hostname` through the platform's Gateway (its plain-HTTP listener). */
export function httpbinRoute(
  namespace: string,
  hostname: string,
  gateway: PlatformGateway,
): GatewayApiObject<"HTTPRoute", { parentRefs: object[]; hostnames: string[]; rules: object[] }> {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "httpbin", namespace },
    spec: {
      parentRefs: [gateway.parentRef],
      hostnames: [hostname],
      rules: [{ backendRefs: [{ name: "httpbin", port: HTTPBIN_PORT }] }],
    },
  };
}

/** The labels of the consumer's namespace: in the mesh, routes accepted by the Gateway, waypoint in use. */
export function namespaceLabels(
  injectionLabel: Readonly<Record<string, string>>,
  mesh: { readonly dataplaneMode: string; readonly gateway: PlatformGateway | null },
): Record<string, string> {
  return {
    ...injectionLabel,
    ...(mesh.gateway ? mesh.gateway.routeNamespaceLabel : {}),
    ...(mesh.dataplaneMode === "ambient" ? { "istio.io/use-waypoint": WAYPOINT } : {}),
  };
}
