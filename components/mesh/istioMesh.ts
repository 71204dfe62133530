/**
 * IstioMesh: Istio the way its project recommends, as one ordered graph.
 *
 *   base (CRDs, defaultRevision) → istiod per revision (Helm waits until it serves)
 *     → revision tags (webhook + Service per tag) → gateways in their own namespaces
 *     → mesh policy (PeerAuthentication, Telemetry) and application namespaces (istio.io/rev=<tag>)
 *
 * Every Helm release waits for its resources; nothing Istio-specific is created before istiod is up.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { type PodSecurityLevel, podSecurityLabels } from "../../lib/podSecurity";
import { meshCharts, type PinnedChart } from "../../lib/versions";
import { type ChartRepositoryOverrides, chartRelease } from "../charts";
import { resourceName } from "../names";
import { type IstioCustomResource, meshTelemetry, type PolicySettings, peerAuthentications } from "./policy";
import { injectionLabel, type RevisionPlan, type RevisionTag, tagService, tagWebhookConfiguration } from "./revisions";
import { baseValues, type GatewaySettings, gatewayValues, istiodValues, type MeshSettings } from "./values";

export interface GatewayPlacement extends GatewaySettings {
  readonly namespace: string;
  /** Helm release name: also the Service's name and, without "istio-", the pods' `istio` label. */
  readonly releaseName: string;
}

export interface IstioMeshArgs {
  readonly clusterName: string;
  readonly chartRepositories: ChartRepositoryOverrides;
  readonly plan: RevisionPlan;
  readonly mesh: MeshSettings;
  readonly policy: PolicySettings;
  readonly ingress: GatewayPlacement;
  readonly egress?: GatewayPlacement;
  /** Application namespaces to create, each mapped to the revision tag it joins through. */
  readonly namespaces: Readonly<Record<string, string>>;
  /** The Pod Security level each kind of namespace this component creates enforces. */
  readonly podSecurity: MeshPodSecurity;
  /** What must be ready first (the cluster add-ons: CNI, cloud provider for the LoadBalancer, CSI). */
  readonly after: readonly pulumi.Resource[];
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
  /** The istiod releases (one per revision): everything Istio-specific depends on them. */
  readonly istiodReleases: readonly k8s.helm.v3.Release[];
  readonly ingressNamespace: string;
  readonly ingressService: string;
  /** The ingress pods' selector (for Gateway resources). */
  readonly ingressSelector: Readonly<Record<string, string>>;
  /** External address of the ingress gateway's load balancer (an Octavia floating IP). */
  readonly ingressAddress: pulumi.Output<string | undefined>;
  readonly ingressRelease: k8s.helm.v3.Release;

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

    const psa = args.podSecurity;
    const istioSystem = namespace(
      named("ns", ISTIO_NAMESPACE),
      ISTIO_NAMESPACE,
      podSecurityLabels(psa.system),
      [...args.after],
      child,
    );

    // CRDs come from the newest revision's base chart, so a canary's new CRDs exist before its istiod.
    const base = release(
      "istio-base",
      { ...meshCharts.base, version: args.plan.newest.version },
      "istio-base",
      ISTIO_NAMESPACE,
      baseValues(args.plan.defaultRevision),
      [...args.after, istioSystem],
    );

    const istiod = new Map(
      args.plan.revisions.map((revision) => [
        revision.name,
        release(
          `istiod-${revision.name}`,
          { ...meshCharts.istiod, version: revision.version },
          `istiod-${revision.name}`,
          ISTIO_NAMESPACE,
          istiodValues(revision, args.mesh),
          [base],
        ),
      ]),
    );
    this.istiodReleases = [...istiod.values()];
    const istiodOf = (tag: RevisionTag) => istiod.get(tag.revision.name) as k8s.helm.v3.Release;

    const tagResources = new Map(
      args.plan.tags.map((tag) => {
        const after = { ...child, dependsOn: [istiodOf(tag)] };
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

    const gateway = (placement: GatewayPlacement) => {
      const ns = namespace(
        named("ns", placement.namespace),
        placement.namespace,
        podSecurityLabels(psa.gateways),
        [...args.after],
        child,
      );
      return release(
        placement.releaseName,
        { ...meshCharts.gateway, version: args.plan.newest.version },
        placement.releaseName,
        placement.namespace,
        gatewayValues(placement),
        [ns, ...this.istiodReleases, ...tagReady(placement.tag)],
      );
    };
    this.ingressRelease = gateway(args.ingress);
    if (args.egress) gateway(args.egress);

    const appNamespaces = Object.entries(args.namespaces).map(([ns, tag]) =>
      namespace(
        named("ns", ns),
        ns,
        { ...podSecurityLabels(psa.applications), ...injectionLabel(tag) },
        [...this.istiodReleases, ...tagReady(tag)],
        child,
      ),
    );

    const policies: IstioCustomResource[] = [...peerAuthentications(args.policy), meshTelemetry(args.policy)];
    for (const resource of policies) {
      const { namespace: ns, name: objectName } = resource.metadata;
      new k8s.apiextensions.CustomResource(
        named(resource.kind.toLowerCase(), ns, objectName),
        { apiVersion: resource.apiVersion, kind: resource.kind, metadata: resource.metadata, spec: resource.spec },
        { ...child, dependsOn: [...this.istiodReleases, ...appNamespaces] },
      );
    }

    this.ingressNamespace = args.ingress.namespace;
    this.ingressService = args.ingress.releaseName;
    this.ingressSelector = { istio: args.ingress.releaseName.replace(/^istio-/, "") };
    // Read the Service once Helm has waited for its load balancer; unknown (not read) during preview.
    const ingressService = k8s.core.v1.Service.get(
      named("ingress-service"),
      pulumi.interpolate`${this.ingressRelease.status.namespace}/${this.ingressRelease.status.name}`,
      { ...child, dependsOn: [this.ingressRelease] },
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
