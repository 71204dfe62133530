/**
 * httpbin's traffic policy as Istio objects (pure): a VirtualService that splits between the v1 and
 * v2 subsets (90/10 by default) with optional fault injection, and a DestinationRule that defines the
 * subsets and a circuit breaker (connection-pool limits plus outlier detection), as in Istio's
 * traffic-shifting and circuit-breaking tasks.
 */
import type { FaultInjection } from "./config";
import type { HttpbinVersion } from "./samples";

export interface IstioObject<Spec> {
  readonly apiVersion: "networking.istio.io/v1";
  readonly kind: "VirtualService" | "DestinationRule";
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: Spec;
}

export interface WeightedRoute {
  readonly destination: { readonly host: string; readonly subset: HttpbinVersion };
  readonly weight: number;
}

export interface VirtualServiceSpec {
  readonly hosts: readonly string[];
  readonly http: readonly {
    readonly name: string;
    readonly route: readonly WeightedRoute[];
    readonly fault?: {
      readonly delay?: { readonly percentage: { readonly value: number }; readonly fixedDelay: string };
      readonly abort?: { readonly percentage: { readonly value: number }; readonly httpStatus: number };
    };
  }[];
}

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy: {
    readonly connectionPool: {
      readonly tcp: { readonly maxConnections: number };
      readonly http: { readonly http1MaxPendingRequests: number; readonly maxRequestsPerConnection: number };
    };
    readonly outlierDetection: {
      readonly consecutive5xxErrors: number;
      readonly interval: string;
      readonly baseEjectionTime: string;
      readonly maxEjectionPercent: number;
    };
  };
  readonly subsets: readonly { readonly name: HttpbinVersion; readonly labels: { readonly version: HttpbinVersion } }[];
}

/** The host as seen from inside the mesh: the Service's cluster-local name. */
export const httpbinHost = (namespace: string) => `httpbin.${namespace}.svc.cluster.local`;

/** v1 gets what the canary does not; the two always add up to 100. */
export function splitRoutes(namespace: string, canaryWeight: number): WeightedRoute[] {
  const host = httpbinHost(namespace);
  return [
    { destination: { host, subset: "v1" }, weight: 100 - canaryWeight },
    { destination: { host, subset: "v2" }, weight: canaryWeight },
  ];
}

export function httpbinVirtualService(
  namespace: string,
  canaryWeight: number,
  fault?: FaultInjection,
): IstioObject<VirtualServiceSpec> {
  const injected = fault && {
    ...(fault.delay
      ? { delay: { percentage: { value: fault.delay.percent }, fixedDelay: fault.delay.fixedDelay } }
      : {}),
    ...(fault.abort
      ? { abort: { percentage: { value: fault.abort.percent }, httpStatus: fault.abort.httpStatus } }
      : {}),
  };
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "httpbin", namespace },
    spec: {
      hosts: [httpbinHost(namespace)],
      http: [{ name: "canary", route: splitRoutes(namespace, canaryWeight), ...(injected ? { fault: injected } : {}) }],
    },
  };
}

export function httpbinDestinationRule(namespace: string): IstioObject<DestinationRuleSpec> {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "httpbin", namespace },
    spec: {
      host: httpbinHost(namespace),
      trafficPolicy: {
        // Istio's circuit-breaking task: more than one connection or pending request trips it.
        connectionPool: {
          tcp: { maxConnections: 1 },
          http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
        },
        outlierDetection: { consecutive5xxErrors: 1, interval: "1s", baseEjectionTime: "3m", maxEjectionPercent: 100 },
      },
      subsets: [
        { name: "v1", labels: { version: "v1" } },
        { name: "v2", labels: { version: "v2" } },
      ],
    },
  };
}
