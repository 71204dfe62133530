/**
 * The stack-output contract: what other Pulumi projects read through a StackReference. One place,
 * typed and versioned; a test fails when an output disappears or changes shape.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../stacks/load";
import type { NodePool } from "../compute/nodePool";
import { GATEWAY_API_GROUP, HTTP_LISTENER } from "../mesh/gatewayApi";
import type { IngressGatewayRef } from "../mesh/istioMesh";
import { meshMembershipLabel } from "../mesh/revisions";
import type { ClusterNetwork } from "../network/clusterNetwork";
import { portForwards } from "../observability/values";
import type { Platform } from ".";
import type { MeshLayers } from "./mesh";

/** Bump on a breaking change (an output removed, renamed or changing type). */
export const OUTPUT_CONTRACT_VERSION = 1;

export function stackOutputs(platform: Platform, config: StackConfig) {
  const infrastructure = platform.infrastructure;
  return {
    contractVersion: OUTPUT_CONTRACT_VERSION,
    environment: config.environment,
    clusterName: config.clusterName,
    /** Admin kubeconfig, a secret; null when clusterMode is openstack-only. */
    kubeconfig: platform.cluster ? pulumi.secret(platform.cluster.kubeconfig) : null,
    /** https://<address>:6443; null for an existing cluster (see its kubeconfig). */
    apiEndpoint: infrastructure ? pulumi.interpolate`https://${infrastructure.apiEndpoint.address}:6443` : null,
    network: infrastructure ? networkOutputs(infrastructure.network, config) : null,
    nodes: infrastructure
      ? pulumi.output({
          controlPlane: nodeAddresses(infrastructure.controlPlane),
          workers: Object.fromEntries(
            infrastructure.workerPools.map((pool, index) => [config.workerPools[index].name, nodeAddresses(pool)]),
          ),
        })
      : null,
    ...meshStackOutputs(platform),
  };
}

/** The mesh's part of the contract (tests/fixtures/output-contract.json). */
export function meshOutputs(layers: MeshLayers) {
  const { plan, mesh } = layers;
  return {
    /** Label a namespace with this to join the mesh: the injection tag (sidecar) or the ambient label. */
    injectionLabel: meshMembershipLabel(layers.dataplaneMode, layers.injectionTag),
    mesh: pulumi.output({
      dataplaneMode: layers.dataplaneMode,
      ingressApi: mesh.ingressApi,
      /** What a team's own waypoints and Gateways carry as istio.io/rev to follow the stack's upgrades. */
      revisionTag: layers.injectionTag,
      gateway: gatewayOutput(mesh.ingressGateway),
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
      kiali: { ...portForwards.kiali, externalUrl: layers.publicUrls?.kiali ?? null },
      grafana: { ...portForwards.grafana, externalUrl: layers.publicUrls?.grafana ?? null },
      tracing: portForwards.jaeger,
      prometheus: portForwards.prometheus,
    }),
  };
}

/** What a consumer needs to attach an HTTPRoute to the ingress Gateway (null with the classic gateway). */
function gatewayOutput(gateway: IngressGatewayRef | undefined) {
  if (!gateway) return null;
  return {
    name: gateway.name,
    namespace: gateway.namespace,
    gatewayClassName: gateway.gatewayClassName,
    listeners: [...gateway.listeners],
    /** Spread into an HTTPRoute's parentRefs (sectionName picks the plain-HTTP listener). */
    parentRef: {
      group: GATEWAY_API_GROUP,
      kind: "Gateway" as const,
      name: gateway.name,
      namespace: gateway.namespace,
      sectionName: HTTP_LISTENER,
    },
    routeNamespaceLabel: { ...gateway.routeNamespaceLabel },
  };
}

/** The mesh layer's outputs; null without a cluster (openstack-only). */
function meshStackOutputs(platform: Platform) {
  const outputs = platform.mesh ? meshOutputs(platform.mesh) : undefined;
  return {
    /** Label map that puts a namespace in the mesh (sidecar injection through a tag, or ambient). */
    injectionLabel: outputs?.injectionLabel ?? null,
    /** Ingress gateway address and namespace, revisions and their tags. */
    mesh: outputs?.mesh ?? null,
    /** How to reach Kiali, Grafana, Jaeger and Prometheus (port-forward commands and URLs). */
    observability: outputs?.observability ?? null,
  };
}

function networkOutputs(network: ClusterNetwork, config: StackConfig) {
  return pulumi.output({
    networkId: network.networkId,
    subnetId: network.subnetId,
    routerId: network.routerId,
    nodeCidr: network.nodeCidr,
    podCidr: config.podCidr,
    serviceCidr: config.serviceCidr,
    externalNetworkId: network.externalNetworkId,
    securityGroupIds: pulumi.output(network.securityGroupIds).apply((ids) => ({
      controlPlane: ids.controlPlane,
      worker: ids.worker,
      apiLoadBalancer: ids.apiLoadBalancer ?? null,
    })),
  });
}

function nodeAddresses(pool: NodePool) {
  return pool.nodes.map((node) => ({ name: node.spec.name, address: node.address }));
}

export type StackOutputs = ReturnType<typeof stackOutputs>;

/** What consumers read through a StackReference (plain values); kept in step by tests/outputs-contract.test.ts. */
export type { PendingPlatformOutput, PlatformOutputs } from "./contract";
