/**
 * The mesh and observability layers, wired from the stack config: maps config keys to the typed
 * settings of IstioMesh and Observability and builds both (children of the Platform, on the
 * cluster's Kubernetes provider, after its add-ons).
 */
import * as pulumi from "@pulumi/pulumi";
import { INGRESS_NODE_PORTS, ISTIO_NAMESPACE } from "../../lib/istio";
import { istioDashboards } from "../../lib/versions";
import { istioCniEnabled } from "../../stacks/keys/mesh";
import type { StackConfig } from "../../stacks/load";
import type { AccessRule } from "../mesh/access";
import { hostExposure, INGRESS_GATEWAY_NAME, waypointClassDefaults } from "../mesh/gatewayApi";
import { type GatewayPlacement, IstioMesh, type MeshAccess, type MeshPodSecurity } from "../mesh/istioMesh";
import { kialiExposure } from "../mesh/policy";
import { planRevisions, type RevisionPlan } from "../mesh/revisions";
import { Observability } from "../observability/observability";
import { endpoints, publicRoutes, publicUrls, TRACING_PROVIDER } from "../observability/values";
import type { ClusterAccess } from "./cluster";

export interface MeshLayers {
  readonly plan: RevisionPlan;
  /** The tag application namespaces use (meshInjectionTag). */
  readonly injectionTag: string;
  readonly dataplaneMode: "sidecar" | "ambient";
  readonly mesh: IstioMesh;
  readonly observability: Observability;
  /** Kiali and Grafana through the ingress gateway over TLS, when kialiHost is set. */
  readonly publicUrls?: { readonly kiali: string; readonly grafana: string };
}

/** Where the gateway pods get their sidecar: the `default` tag, so moving it moves the gateways. */
const GATEWAY_TAG = "default";

function ingressPlacement(config: StackConfig): GatewayPlacement {
  return {
    namespace: config.ingressGatewayNamespace,
    releaseName: "istio-ingressgateway",
    tag: GATEWAY_TAG,
    replicas: config.ingressGatewayReplicas,
    maxReplicas: config.ingressGatewayMaxReplicas,
    podDisruptionBudget: config.ingressGatewayPodDisruptionBudget,
    resources: config.ingressGatewayResources,
    // No Octavia: NodePorts on the workers (reached through a worker's floating IP, or a port-forward).
    serviceType: config.loadBalancerProvider === "none" ? "NodePort" : "LoadBalancer",
    // Fixed where clients reach them directly (no amphora in front): the worker group opens exactly these.
    ...(config.loadBalancerProvider !== "amphora" ? { nodePorts: INGRESS_NODE_PORTS } : {}),
    externalTrafficPolicy: config.ingressGatewayExternalTrafficPolicy,
    ...(config.ingressGatewayFloatingIp ? { floatingIp: config.ingressGatewayFloatingIp } : {}),
    proxyProtocol: config.ingressGatewayProxyProtocol,
    sourceRanges: config.ingressGatewaySourceRanges,
    annotations: config.ingressGatewayAnnotations,
  };
}

function egressPlacement(config: StackConfig): GatewayPlacement {
  return {
    namespace: "istio-egress",
    releaseName: "istio-egressgateway",
    tag: GATEWAY_TAG,
    replicas: config.ingressGatewayPodDisruptionBudget ? 2 : 1,
    maxReplicas: config.ingressGatewayPodDisruptionBudget ? 4 : 1,
    podDisruptionBudget: config.ingressGatewayPodDisruptionBudget,
    resources: config.ingressGatewayResources,
    serviceType: "ClusterIP",
    proxyProtocol: false,
    sourceRanges: [],
    annotations: {},
  };
}

/**
 * Pod Security per namespace (Pod Security Standards): istiod, the observability add-ons and the
 * gateways need nothing beyond baseline. Application pods with sidecars injected by istio-init need
 * NET_ADMIN and NET_RAW (Istio: "Pod Security Admission": only the Istio CNI node agent removes that
 * init container), which baseline forbids: their namespaces stay privileged without the CNI agent.
 * With it (ambient, or `istioCni`) the roles swap: application pods get the unprivileged
 * istio-validation container (or, in ambient, no container at all) and run under baseline, while
 * istio-system hosts the node agents, istio-cni and ztunnel, which are privileged by design (they
 * set up pods' networking from the host) and so need a privileged namespace.
 */
export function meshPodSecurity(cni: boolean): MeshPodSecurity {
  return cni
    ? { system: "privileged", gateways: "baseline", applications: "baseline" }
    : { system: "baseline", gateways: "baseline", applications: "privileged" };
}

/**
 * Who may reach istio-system from other namespaces (besides istiod's xDS and webhooks): every mesh
 * proxy sends traces to Jaeger's OTLP receivers; the ingress gateway reaches Grafana when it is
 * published under kialiHost (Kiali's own chart opens Kiali). And whether application namespaces
 * admit only their own and the gateway's workloads.
 */
export function meshAccess(config: StackConfig): MeshAccess {
  const tracing: AccessRule = {
    name: "tracing-collector-from-mesh",
    pods: { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/component": "all-in-one" },
    ports: [4317, 4318],
  };
  const grafana: AccessRule = {
    name: "grafana-from-ingress",
    pods: { "app.kubernetes.io/name": "grafana" },
    ports: [3000],
    fromNamespaces: [config.ingressGatewayNamespace],
  };
  return {
    system: config.kialiHost ? [tracing, grafana] : [tracing],
    isolateApplications: config.meshNamespaceIsolation,
  };
}

export function buildMeshLayers(
  parent: pulumi.Resource,
  config: StackConfig,
  cluster: Pick<ClusterAccess, "provider" | "readiness">,
): MeshLayers {
  const plan = planRevisions(config.istioRevisions, config.istioRevisionTags);
  // Kiali on its host: with Gateway API, listeners on the ingress Gateway and HTTPRoutes beside Kiali.
  const kialiHostExposure =
    config.ingressApi === "gateway-api" && config.kialiHost && config.kialiTlsSecret
      ? hostExposure({
          name: "kiali",
          host: config.kialiHost,
          tlsSecret: config.kialiTlsSecret,
          gateway: { name: INGRESS_GATEWAY_NAME, namespace: config.ingressGatewayNamespace },
          namespace: ISTIO_NAMESPACE,
          // The same paths the classic VirtualService routes (Grafana under its sub-path, Kiali at /).
          paths: publicRoutes().map((r) => ({ pathPrefix: r.pathPrefix, name: r.service.split(".")[0], port: r.port })),
        })
      : undefined;
  const opts: pulumi.ComponentResourceOptions = { parent, providers: { kubernetes: cluster.provider } };
  const mesh = new IstioMesh(
    `${config.clusterName}-mesh`,
    {
      clusterName: config.clusterName,
      chartRepositories: config.chartRepositories,
      plan,
      mesh: {
        outboundTrafficPolicy: config.meshOutboundTrafficPolicy,
        holdApplicationUntilProxyStarts: config.meshHoldApplicationUntilProxyStarts,
        istiodMinReplicas: config.istiodMinReplicas,
        tracing: { name: TRACING_PROVIDER, ...endpoints.jaegerOtlp },
      },
      dataPlane: {
        mode: config.meshDataplaneMode,
        cni: istioCniEnabled(config),
        ...(config.meshDataplaneMode === "ambient"
          ? { waypointClassDefaults: waypointClassDefaults(config.meshWaypointReplicas) }
          : {}),
      },
      ingressApi: config.ingressApi,
      policy: {
        mtlsMode: config.meshMtlsMode,
        permissiveNamespaces: config.meshPermissiveNamespaces,
        accessLogging: config.meshAccessLogging,
        traceSamplingPercent: config.meshTraceSamplingPercent,
        tracingProvider: TRACING_PROVIDER,
      },
      ingress: ingressPlacement(config),
      ...(config.egressGateway ? { egress: egressPlacement(config) } : {}),
      ...(kialiHostExposure ? { ingressListeners: kialiHostExposure.listeners } : {}),
      namespaces: config.meshNamespaces,
      podSecurity: meshPodSecurity(istioCniEnabled(config)),
      access: meshAccess(config),
      waypoints: config.meshWaypoints,
      podsReady: cluster.readiness.pods,
      loadBalancersReady: cluster.readiness.loadBalancers,
    },
    opts,
  );
  // Kiali published through the ingress gateway: the mesh's routing objects, created by the
  // observability layer once Kiali and the gateway run.
  const kialiRoute =
    config.kialiHost && config.kialiTlsSecret
      ? {
          objects:
            kialiHostExposure?.routes ??
            kialiExposure({
              host: config.kialiHost,
              tlsSecret: config.kialiTlsSecret,
              gatewayNamespace: mesh.ingressNamespace,
              gatewaySelector: mesh.ingressSelector,
              routes: publicRoutes(),
            }),
          gateway: mesh.ingressReady,
        }
      : undefined;
  const observability = new Observability(
    `${config.clusterName}-observability`,
    {
      clusterName: config.clusterName,
      chartRepositories: config.chartRepositories,
      prometheus: {
        retention: config.prometheusRetention,
        storageSize: config.prometheusStorageSize,
        ...(config.prometheusStorageClass ? { storageClass: config.prometheusStorageClass } : {}),
      },
      jaeger: {
        storage:
          config.jaegerStorage === "memory"
            ? { type: "memory" }
            : {
                type: "badger",
                size: config.jaegerStorageSize,
                retention: config.jaegerRetention,
                ...(config.jaegerStorageClass ? { storageClass: config.jaegerStorageClass } : {}),
              },
        resources: config.jaegerResources,
      },
      grafana: { dashboardsUrl: config.grafanaDashboardsUrl ?? istioDashboards.source(plan.newest.version) },
      kiali: { strategy: config.kialiAuthStrategy, viewOnly: config.kialiViewOnly },
      ...(kialiRoute ? { kialiRoute, publicHost: config.kialiHost } : {}),
      ...(config.grafanaAdminPassword ? { grafanaAdminPassword: pulumi.secret(config.grafanaAdminPassword) } : {}),
      ...(config.kialiSigningKey ? { kialiSigningKey: pulumi.secret(config.kialiSigningKey) } : {}),
      ...(config.alertmanagerReceiver ? { alertmanagerReceiver: config.alertmanagerReceiver } : {}),
      namespace: mesh.istioSystem,
      podsReady: cluster.readiness.pods,
      volumesReady: cluster.readiness.volumes,
    },
    opts,
  );
  return {
    plan,
    injectionTag: config.meshInjectionTag,
    dataplaneMode: config.meshDataplaneMode,
    mesh,
    observability,
    ...(kialiRoute && config.kialiHost ? { publicUrls: publishedUrls(config.kialiHost) } : {}),
  };
}

function publishedUrls(host: string): { kiali: string; grafana: string } {
  const urls = publicUrls(host);
  return { kiali: urls.kiali ?? `https://${host}/kiali`, grafana: urls.grafana };
}
