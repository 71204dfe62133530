/**
 * Istio custom resources the mesh applies once istiod serves: mTLS policy, telemetry, and (when
 * asked) Kiali's route through the ingress gateway. Pure data; tests validate them against Istio's
 * published schemas (@kubernetes-models/istio).
 */
import { ISTIO_NAMESPACE } from "../../lib/istio";
import type { AuthorizationPolicy } from "./access";

export type MtlsMode = "STRICT" | "PERMISSIVE";

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
}

interface IstioObject<Api extends string, Kind extends string, Spec> {
  readonly apiVersion: Api;
  readonly kind: Kind;
  readonly metadata: ObjectMeta;
  readonly spec: Spec;
}

export type PeerAuthentication = IstioObject<
  "security.istio.io/v1",
  "PeerAuthentication",
  { readonly mtls: { readonly mode: MtlsMode } }
>;

export type Telemetry = IstioObject<
  "telemetry.istio.io/v1",
  "Telemetry",
  {
    readonly accessLogging?: readonly { readonly providers: readonly { readonly name: string }[] }[];
    readonly tracing: readonly {
      readonly providers: readonly { readonly name: string }[];
      readonly randomSamplingPercentage: number;
    }[];
  }
>;

export type Gateway = IstioObject<
  "networking.istio.io/v1",
  "Gateway",
  {
    readonly selector: Readonly<Record<string, string>>;
    readonly servers: readonly {
      readonly port: { readonly number: number; readonly name: string; readonly protocol: string };
      readonly hosts: readonly string[];
      readonly tls?: { readonly mode?: "SIMPLE"; readonly credentialName?: string; readonly httpsRedirect?: boolean };
    }[];
  }
>;

export type VirtualService = IstioObject<
  "networking.istio.io/v1",
  "VirtualService",
  {
    readonly hosts: readonly string[];
    readonly gateways: readonly string[];
    readonly http: readonly {
      readonly match?: readonly { readonly uri: { readonly prefix: string } }[];
      readonly route: readonly {
        readonly destination: { readonly host: string; readonly port: { readonly number: number } };
      }[];
    }[];
  }
>;

export type IstioCustomResource = PeerAuthentication | Telemetry | Gateway | VirtualService | AuthorizationPolicy;

export interface PolicySettings {
  readonly mtlsMode: MtlsMode;
  readonly permissiveNamespaces: readonly string[];
  readonly accessLogging: boolean;
  readonly traceSamplingPercent: number;
  readonly tracingProvider: string;
}

/** STRICT mesh-wide in the root namespace; PERMISSIVE only in the namespaces a stack lists. */
export function peerAuthentications(settings: PolicySettings): PeerAuthentication[] {
  const policy = (namespace: string, mode: MtlsMode): PeerAuthentication => ({
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace },
    spec: { mtls: { mode } },
  });
  return [
    policy(ISTIO_NAMESPACE, settings.mtlsMode),
    ...settings.permissiveNamespaces.map((namespace) => policy(namespace, "PERMISSIVE")),
  ];
}

/** Mesh-wide Telemetry (root namespace, no selector): access logs to stdout and trace sampling. */
export function meshTelemetry(settings: PolicySettings): Telemetry {
  return {
    apiVersion: "telemetry.istio.io/v1",
    kind: "Telemetry",
    metadata: { name: "mesh-default", namespace: ISTIO_NAMESPACE },
    spec: {
      ...(settings.accessLogging ? { accessLogging: [{ providers: [{ name: "envoy" }] }] } : {}),
      tracing: [
        {
          providers: [{ name: settings.tracingProvider }],
          randomSamplingPercentage: settings.traceSamplingPercent,
        },
      ],
    },
  };
}

/** One path on the public host and the in-cluster Service behind it. */
export interface PathRoute {
  readonly pathPrefix: string;
  readonly service: string;
  readonly port: number;
}

export interface KialiRoute {
  readonly host: string;
  readonly tlsSecret: string;
  readonly gatewayNamespace: string;
  /** The ingress gateway pods' `istio` label. */
  readonly gatewaySelector: Readonly<Record<string, string>>;
  /** Most specific first; the last one usually `/`. */
  readonly routes: readonly PathRoute[];
}

/**
 * Kiali (and what the observability layer publishes beside it, by path) behind the ingress gateway:
 * HTTPS with the given certificate, HTTP only redirects.
 */
export function kialiExposure(route: KialiRoute): [Gateway, VirtualService] {
  const gateway: Gateway = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "kiali", namespace: route.gatewayNamespace },
    spec: {
      selector: route.gatewaySelector,
      servers: [
        {
          port: { number: 443, name: "https-kiali", protocol: "HTTPS" },
          hosts: [route.host],
          tls: { mode: "SIMPLE", credentialName: route.tlsSecret },
        },
        {
          port: { number: 80, name: "http-kiali", protocol: "HTTP" },
          hosts: [route.host],
          tls: { httpsRedirect: true },
        },
      ],
    },
  };
  const virtualService: VirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "kiali", namespace: ISTIO_NAMESPACE },
    spec: {
      hosts: [route.host],
      gateways: [`${route.gatewayNamespace}/kiali`],
      http: route.routes.map((r) => ({
        ...(r.pathPrefix === "/" ? {} : { match: [{ uri: { prefix: r.pathPrefix } }] }),
        route: [{ destination: { host: r.service, port: { number: r.port } } }],
      })),
    },
  };
  return [gateway, virtualService];
}
