/**
 * The mesh and observability layers, wired from the stack config: maps config keys to the typed
 * settings of IstioMesh and Observability, builds both (children of the Platform, on the cluster's
 * Kubernetes provider, after its add-ons) and shapes their stack outputs.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../stacks/load";
import { Observability } from "../observability/observability";
import { endpoints, portForwards, TRACING_PROVIDER } from "../observability/values";
import { type GatewayPlacement, IstioMesh } from "./istioMesh";
import { injectionLabel, planRevisions, type RevisionPlan } from "./revisions";

export interface ClusterAccess {
  readonly provider: k8s.Provider;
  readonly addonsReady: pulumi.Resource[];
}

export interface MeshLayers {
  readonly plan: RevisionPlan;
  /** The tag application namespaces use (meshInjectionTag). */
  readonly injectionTag: string;
  readonly mesh: IstioMesh;
  readonly observability: Observability;
}

/** Where the gateway pods get their sidecar: the `default` tag, so moving it moves the gateways. */
const GATEWAY_TAG = "default";

export function ingressPlacement(config: StackConfig): GatewayPlacement {
  return {
    namespace: config.ingressGatewayNamespace,
    releaseName: "istio-ingressgateway",
    tag: GATEWAY_TAG,
    replicas: config.ingressGatewayReplicas,
    maxReplicas: config.ingressGatewayMaxReplicas,
    podDisruptionBudget: config.ingressGatewayPodDisruptionBudget,
    resources: config.ingressGatewayResources,
    serviceType: "LoadBalancer",
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

export function buildMeshLayers(parent: pulumi.Resource, config: StackConfig, cluster: ClusterAccess): MeshLayers {
  const plan = planRevisions(config.istioRevisions, config.istioRevisionTags);
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
      policy: {
        mtlsMode: config.meshMtlsMode,
        permissiveNamespaces: config.meshPermissiveNamespaces,
        accessLogging: config.meshAccessLogging,
        traceSamplingPercent: config.meshTraceSamplingPercent,
        tracingProvider: TRACING_PROVIDER,
      },
      ingress: ingressPlacement(config),
      ...(config.egressGateway ? { egress: egressPlacement(config) } : {}),
      namespaces: config.meshNamespaces,
      after: cluster.addonsReady,
    },
    opts,
  );
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
      kialiAuth: config.kialiAuthStrategy,
      ...(config.kialiHost && config.kialiTlsSecret
        ? {
            kialiIngress: {
              host: config.kialiHost,
              tlsSecret: config.kialiTlsSecret,
              gatewayNamespace: mesh.ingressNamespace,
              gatewaySelector: mesh.ingressSelector,
              gateway: mesh.ingressRelease,
            },
          }
        : {}),
      after: [...mesh.istiodReleases],
    },
    opts,
  );
  return { plan, injectionTag: config.meshInjectionTag, mesh, observability };
}

/** The mesh's part of the stack-output contract (components/outputs.ts, tests/fixtures/output-contract.json). */
export function meshOutputs(layers: MeshLayers) {
  const { plan, mesh, observability } = layers;
  return {
    /** Label a namespace with this to join the mesh through the stack's injection tag. */
    injectionLabel: injectionLabel(layers.injectionTag),
    mesh: pulumi.output({
      ingressGateway: {
        namespace: mesh.ingressNamespace,
        service: mesh.ingressService,
        address: mesh.ingressAddress.apply((address) => address ?? null),
      },
      revisions: plan.revisions.map((r) => ({ version: r.version, revision: r.name })),
      tags: Object.fromEntries(plan.tags.map((t) => [t.tag, t.revision.name])),
      defaultRevision: plan.defaultRevision.name,
    }),
    observability: pulumi.output({
      kiali: { ...portForwards.kiali, externalUrl: observability.kialiUrl ?? null },
      grafana: portForwards.grafana,
      tracing: portForwards.jaeger,
      prometheus: portForwards.prometheus,
    }),
  };
}
