/**
 * IstioMesh: Istio the way its project recommends, as one ordered graph.
 *
 *   [Gateway API CRDs] → base (CRDs, defaultRevision) → istiod per revision (Helm waits until it serves)
 *     → [istio-cni → ztunnel] → revision tags (webhook + Service per tag) → ingress (the gateway chart,
 *     or a Gateway API Gateway) and egress → application namespaces (istio.io/rev=<tag>, or the ambient
 *     label), [waypoints] → mesh policy (PeerAuthentication, Telemetry)
 *
 * Bracketed steps depend on the data plane mode and the ingress API (docs/mesh-modes.md). Every Helm
 * release waits for its resources; nothing Istio-specific is created before istiod is up.
 * Each edge is a real dependency, nothing waits for order's sake (docs/performance.md): namespaces
 * and CRDs need only the API server; istiod and the gateways' pods need a cluster that runs pods;
 * a gateway's LoadBalancer Service needs the cloud provider.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { type PodSecurityLevel, podSecurityLabels } from "../../lib/podSecurity";
import { meshCharts, type PinnedChart } from "../../lib/versions";
import { type ChartRepositoryOverrides, chartRelease } from "../charts";
import { resourceName } from "../names";
import {
  type AccessRule,
  accessPolicy,
  ISTIOD_ACCESS,
  namespaceIsolation,
  namespaceIsolationAuthorization,
} from "./access";
import {
  type Gateway,
  generatedName,
  INGRESS_GATEWAY_CLASS,
  INGRESS_GATEWAY_NAME,
  ingressGateway,
  ingressGatewayParameters,
  type Listener,
  ROUTE_NAMESPACE_LABEL,
  WAYPOINT_NAME,
  waypoint,
} from "./gatewayApi";
import { GatewayApiCrds } from "./gatewayApiCrds";
import { type IstioCustomResource, meshTelemetry, type PolicySettings, peerAuthentications } from "./policy";
import { meshMembershipLabel, type RevisionPlan, tagService, tagWebhookConfiguration } from "./revisions";
import {
  baseValues,
  type DataPlaneSettings,
  type GatewaySettings,
  gatewayValues,
  istioCniValues,
  istiodValues,
  type MeshSettings,
  ztunnelValues,
} from "./values";

export interface GatewayPlacement extends GatewaySettings {
  readonly namespace: string;
  /** Helm release name: also the Service's name and, without "istio-", the pods' `istio` label. */
  readonly releaseName: string;
}

export type IngressApi = "istio-gateway" | "gateway-api";

/** The ingress Gateway of `ingressApi: gateway-api` (what consumers attach HTTPRoutes to). */
export interface IngressGatewayRef {
  readonly name: string;
  readonly namespace: string;
  readonly gatewayClassName: string;
  readonly listeners: readonly string[];
  /** The label a namespace needs for its routes (and ListenerSets) to be accepted. */
  readonly routeNamespaceLabel: Readonly<Record<string, string>>;
}

export interface IstioMeshArgs {
  readonly clusterName: string;
  readonly chartRepositories: ChartRepositoryOverrides;
  readonly plan: RevisionPlan;
  readonly mesh: MeshSettings;
  readonly dataPlane: DataPlaneSettings;
  readonly ingressApi: IngressApi;
  readonly policy: PolicySettings;
  readonly ingress: GatewayPlacement;
  readonly egress?: GatewayPlacement;
  /** gateway-api: listeners beyond `http` (hosts published over TLS, see hostExposure). */
  readonly ingressListeners?: readonly Listener[];
  /** Application namespaces to create, each mapped to the revision tag it joins through. */
  readonly namespaces: Readonly<Record<string, string>>;
  /** The Pod Security level each kind of namespace this component creates enforces. */
  readonly podSecurity: MeshPodSecurity;
  /** Ambient: namespaces (of `namespaces`) that get a namespace-wide waypoint on their tag. */
  readonly waypoints: readonly string[];
  /** What pods need first: the pod network and initialised nodes (the cluster add-ons). */
  readonly podsReady: readonly pulumi.Resource[];
  /** What a LoadBalancer Service needs for its address (and must outlive it): the cloud-controller-manager. */
  readonly loadBalancersReady: readonly pulumi.Resource[];
  /** Who may reach istio-system and the application namespaces (access.ts). */
  readonly access: MeshAccess;
}

export interface MeshAccess {
  /** Ways into istio-system from other namespaces besides istiod's (NetworkPolicies). */
  readonly system: readonly AccessRule[];
  /** Application namespaces admit only their own and the ingress gateway's mesh workloads. */
  readonly isolateApplications: boolean;
}

export interface MeshPodSecurity {
  /** istio-system: istiod and the observability add-ons. */
  readonly system: PodSecurityLevel;
  /** The gateways' namespaces. */
  readonly gateways: PodSecurityLevel;
  /** Application namespaces (their pods get the mesh's init container or none). */
  readonly applications: PodSecurityLevel;
}

export class IstioMesh extends pulumi.ComponentResource {
  /** The istio-system Namespace (the observability layer installs there too). */
  readonly istioSystem: k8s.core.v1.Namespace;
  /** The istiod releases (one per revision): everything Istio-specific depends on them. */
  readonly istiodReleases: readonly k8s.helm.v3.Release[];
  readonly ingressNamespace: string;
  /** The ingress gateway's LoadBalancer Service. */
  readonly ingressService: string;
  /** The ingress pods' selector (for Istio Gateway objects and AuthorizationPolicies). */
  readonly ingressSelector: Readonly<Record<string, string>>;
  /** External address of the ingress gateway's load balancer (an Octavia floating IP). */
  readonly ingressAddress: pulumi.Output<string | undefined>;
  /** What runs the ingress gateway (its Helm release, or its Gateway): routes wait for it. */
  readonly ingressReady: pulumi.Resource;
  readonly ingressApi: IngressApi;
  /** With `ingressApi: gateway-api`: the Gateway applications attach routes to. */
  readonly ingressGateway?: IngressGatewayRef;

  constructor(name: string, args: IstioMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:mesh:IstioMesh", name, {}, opts);
    const child = { parent: this };
    const named = (...parts: (string | number)[]) => resourceName(args.clusterName, ...parts);
    const release = (
      logical: string,
      chart: PinnedChart,
      releaseName: string,
      namespace: string,
      values: object,
      dependsOn: pulumi.Resource[],
    ) =>
      chartRelease(
        named(logical),
        { releaseName, chart, namespace, values, chartRepositories: args.chartRepositories },
        { ...child, dependsOn },
      );
    const ambient = args.dataPlane.mode === "ambient";
    const gatewayApi = args.ingressApi === "gateway-api";

    const psa = args.podSecurity;
    const istioSystem = namespace(
      named("ns", ISTIO_NAMESPACE),
      ISTIO_NAMESPACE,
      podSecurityLabels(psa.system),
      [],
      child,
    );
    this.istioSystem = istioSystem;

    // istio-system is reachable from other namespaces only where the mesh needs it (access.ts).
    for (const policy of [
      namespaceIsolation(ISTIO_NAMESPACE),
      ...[ISTIOD_ACCESS, ...args.access.system].map((rule) => accessPolicy(ISTIO_NAMESPACE, rule)),
    ]) {
      new k8s.networking.v1.NetworkPolicy(
        named("networkpolicy", ISTIO_NAMESPACE, policy.metadata.name),
        { metadata: policy.metadata, spec: policy.spec },
        { ...child, dependsOn: [istioSystem] },
      );
    }

    // Waypoints are Gateways too: ambient needs the CRDs even with the classic ingress gateway. Before
    // istiod, as in Istio's ambient install order, so its Gateway controllers find them at start.
    const gatewayApiCrds =
      gatewayApi || ambient
        ? new GatewayApiCrds(named("gateway-api-crds"), { clusterName: args.clusterName, after: [] }, child).objects
        : [];

    // CRDs come from the newest revision's base chart, so a canary's new CRDs exist before its istiod.
    // No pods: it does not wait for the add-ons.
    const base = release(
      "istio-base",
      { ...meshCharts.base, version: args.plan.newest.version },
      "istio-base",
      ISTIO_NAMESPACE,
      baseValues(args.plan.defaultRevision),
      [istioSystem],
    );

    const istiod = new Map(
      args.plan.revisions.map((revision) => [
        revision.name,
        release(
          `istiod-${revision.name}`,
          { ...meshCharts.istiod, version: revision.version },
          `istiod-${revision.name}`,
          ISTIO_NAMESPACE,
          istiodValues(revision, args.mesh, args.dataPlane),
          // The CRDs, and a cluster that runs its pods (Helm would otherwise wait out the add-ons in its timeout).
          [base, ...gatewayApiCrds, ...args.podsReady],
        ),
      ]),
    );
    this.istiodReleases = [...istiod.values()];
    const istiodOf = (revisionName: string) => istiod.get(revisionName) as k8s.helm.v3.Release;

    // The node agents are one per cluster (fixed DaemonSet names; Istio has no canary for them). They
    // follow the `default` tag: moving it is the step that upgrades them in place (docs/mesh-modes.md).
    const defaultRevision = args.plan.defaultRevision;
    const nodeAgents: pulumi.Resource[] = [];
    if (args.dataPlane.cni) {
      const cni = release(
        "istio-cni",
        { ...meshCharts.cni, version: defaultRevision.version },
        "istio-cni",
        ISTIO_NAMESPACE,
        istioCniValues(args.dataPlane),
        [istiodOf(defaultRevision.name)],
      );
      nodeAgents.push(cni);
      if (ambient) {
        nodeAgents.push(
          release(
            "ztunnel",
            { ...meshCharts.ztunnel, version: defaultRevision.version },
            "ztunnel",
            ISTIO_NAMESPACE,
            ztunnelValues(defaultRevision),
            [istiodOf(defaultRevision.name), cni],
          ),
        );
      }
    }

    const tagResources = new Map(
      args.plan.tags.map((tag) => {
        const after = { ...child, dependsOn: [istiodOf(tag.revision.name)] };
        return [
          tag.tag,
          [
            new k8s.admissionregistration.v1.MutatingWebhookConfiguration(
              named("revision-tag", tag.tag),
              tagWebhookConfiguration(tag),
              after,
            ),
            new k8s.core.v1.Service(named("revision-tag", tag.tag), serviceArgs(tagService(tag)), after),
          ],
        ];
      }),
    );
    const tagReady = (tag: string): pulumi.Resource[] => tagResources.get(tag) ?? [];

    const gatewayNamespace = (placement: GatewayPlacement, labels: Record<string, string> = {}) =>
      namespace(
        named("ns", placement.namespace),
        placement.namespace,
        { ...podSecurityLabels(psa.gateways), ...labels },
        [],
        child,
      );
    // A LoadBalancer Service gets its address from the cloud-controller-manager, which must still run
    // on destroy to delete the Service's Octavia load balancer.
    const loadBalancer = (placement: GatewayPlacement) =>
      placement.serviceType === "LoadBalancer" ? args.loadBalancersReady : [];
    const gatewayRelease = (placement: GatewayPlacement) =>
      release(
        placement.releaseName,
        { ...meshCharts.gateway, version: args.plan.newest.version },
        placement.releaseName,
        placement.namespace,
        gatewayValues(placement),
        // The tag's webhook injects the pods.
        [gatewayNamespace(placement), ...this.istiodReleases, ...tagReady(placement.tag), ...loadBalancer(placement)],
      );
    const customResource = (object: Gateway, dependsOn: pulumi.Resource[], annotations: Record<string, string> = {}) =>
      new k8s.apiextensions.CustomResource(
        named(object.kind.toLowerCase(), object.metadata.namespace, object.metadata.name),
        {
          apiVersion: object.apiVersion,
          kind: object.kind,
          metadata: {
            ...object.metadata,
            ...(Object.keys(annotations).length > 0
              ? { annotations: { ...object.metadata.annotations, ...annotations } }
              : {}),
          },
          spec: object.spec,
        },
        { ...child, dependsOn },
      );

    this.ingressNamespace = args.ingress.namespace;
    this.ingressApi = args.ingressApi;
    if (gatewayApi) {
      const settings = { ...args.ingress, name: INGRESS_GATEWAY_NAME };
      const ns = gatewayNamespace(args.ingress);
      const parameters = ingressGatewayParameters(settings, args.ingressListeners);
      const configMap = new k8s.core.v1.ConfigMap(
        named("gateway-parameters", parameters.metadata.namespace, settings.name),
        { metadata: parameters.metadata, data: parameters.data },
        { ...child, dependsOn: [ns] },
      );
      const gateway = ingressGateway(settings, args.ingressListeners);
      // Pulumi waits until Istio has deployed it and its Service has an address (the Helm release's
      // wait, for the classic gateway), for as long as a release may take.
      this.ingressReady = customResource(
        gateway,
        [
          ns,
          configMap,
          ...gatewayApiCrds,
          ...this.istiodReleases,
          ...tagReady(args.ingress.tag),
          ...nodeAgents,
          ...loadBalancer(args.ingress),
        ],
        { "pulumi.com/waitFor": "condition=Programmed", "pulumi.com/timeoutSeconds": "900" },
      );
      this.ingressService = generatedName(settings.name);
      this.ingressSelector = { "gateway.networking.k8s.io/gateway-name": settings.name };
      this.ingressGateway = {
        name: settings.name,
        namespace: settings.namespace,
        gatewayClassName: INGRESS_GATEWAY_CLASS,
        listeners: gateway.spec.listeners.map((listener) => listener.name),
        routeNamespaceLabel: ROUTE_NAMESPACE_LABEL,
      };
    } else {
      this.ingressReady = gatewayRelease(args.ingress);
      this.ingressService = args.ingress.releaseName;
      this.ingressSelector = { istio: args.ingress.releaseName.replace(/^istio-/, "") };
    }

    if (args.egress && ambient) {
      // Ambient's egress gateway is a waypoint: ServiceEntries in its namespace are reached through it
      // (istio.io, ambient/usage/egress-gateway).
      const labels = { ...meshMembershipLabel("ambient", args.egress.tag), "istio.io/use-waypoint": WAYPOINT_NAME };
      const ns = gatewayNamespace(args.egress, labels);
      customResource(waypoint(args.egress.namespace, args.egress.tag), [
        ns,
        ...gatewayApiCrds,
        ...this.istiodReleases,
        ...tagReady(args.egress.tag),
        ...nodeAgents,
      ]);
    } else if (args.egress) {
      gatewayRelease(args.egress);
    }

    const waypoints = new Set(args.waypoints);
    const appNamespaces = Object.entries(args.namespaces).map(([ns, tag]) => {
      const labels = {
        ...podSecurityLabels(psa.applications),
        ...meshMembershipLabel(args.dataPlane.mode, tag),
        ...(waypoints.has(ns) ? { "istio.io/use-waypoint": WAYPOINT_NAME } : {}),
        ...(gatewayApi ? ROUTE_NAMESPACE_LABEL : {}),
      };
      const created = namespace(
        named("ns", ns),
        ns,
        labels,
        [...this.istiodReleases, ...tagReady(tag), ...nodeAgents],
        child,
      );
      if (waypoints.has(ns)) customResource(waypoint(ns, tag), [created, ...gatewayApiCrds, ...this.istiodReleases]);
      return created;
    });

    const policies: IstioCustomResource[] = [
      ...peerAuthentications(args.policy),
      meshTelemetry(args.policy),
      ...(args.access.isolateApplications
        ? Object.keys(args.namespaces).map((ns) => namespaceIsolationAuthorization(ns, [args.ingress.namespace]))
        : []),
    ];
    for (const resource of policies) {
      const { namespace: ns, name: objectName } = resource.metadata;
      new k8s.apiextensions.CustomResource(
        named(resource.kind.toLowerCase(), ns, objectName),
        { apiVersion: resource.apiVersion, kind: resource.kind, metadata: resource.metadata, spec: resource.spec },
        { ...child, dependsOn: [...this.istiodReleases, ...appNamespaces] },
      );
    }

    // Read the Service once Helm (or the Gateway's readiness) has waited for its load balancer;
    // unknown (not read) during preview.
    const ingressService = k8s.core.v1.Service.get(
      named("ingress-service"),
      `${this.ingressNamespace}/${this.ingressService}`,
      { ...child, dependsOn: [this.ingressReady] },
    );
    this.ingressAddress = ingressService.status.apply((status) => {
      const ingress = status?.loadBalancer?.ingress?.[0];
      return ingress?.ip ?? ingress?.hostname ?? undefined;
    });

    this.registerOutputs({ ingressAddress: this.ingressAddress });
  }
}

function namespace(
  logicalName: string,
  name: string,
  labels: Record<string, string>,
  dependsOn: pulumi.Resource[],
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(logicalName, { metadata: { name, labels } }, { ...opts, dependsOn });
}

function serviceArgs(service: k8s.types.input.core.v1.Service): k8s.core.v1.ServiceArgs {
  return { metadata: service.metadata, spec: service.spec };
}
