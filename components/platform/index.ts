/**
 * The composition root: the only place that reads the stack configuration. It maps config keys to
 * each layer's typed settings and wires the layers into one dependency graph, left to right:
 * network → API endpoint and nodes → Kubernetes → add-ons → mesh → observability.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../stacks/load";
import { type ClusterAccess, kubernetesLayer, nodeUserData, READY_CLUSTER } from "./cluster";
import { buildMeshLayers, type MeshLayers } from "./mesh";
import { type Infrastructure, openstackLayer } from "./openstack";

export type { ClusterAccess } from "./cluster";
export type { Infrastructure } from "./openstack";

export interface PlatformArgs {
  readonly config: StackConfig;
}

/** The whole platform as one component; each layer sees only the outputs of the ones before. */
export class Platform extends pulumi.ComponentResource {
  /** Undefined when clusterMode is existing: nothing is built on OpenStack. */
  readonly infrastructure?: Infrastructure;
  /** Undefined when clusterMode is openstack-only: no Kubernetes layer. */
  readonly cluster?: ClusterAccess;
  /** Istio and its observability, on the cluster after its add-ons; undefined without a cluster. */
  readonly mesh?: MeshLayers;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:index:Platform", name, {}, opts);
    const { config } = args;

    if (config.clusterMode === "existing") {
      this.cluster = existingCluster(this, config.existingKubeconfig as string);
    } else {
      const infrastructure = openstackLayer(this, config, (endpoint) => nodeUserData(this, config, endpoint));
      this.infrastructure = infrastructure;
      const { bootstrap } = infrastructure.nodeUserData;
      this.cluster = bootstrap ? kubernetesLayer(this, config, infrastructure, bootstrap) : undefined;
    }
    if (this.cluster) this.mesh = buildMeshLayers(this, config, this.cluster);

    this.registerOutputs({});
  }
}

/** clusterMode existing: the given kubeconfig (validated as present by the config checks); no add-ons to wait for. */
function existingCluster(parent: pulumi.Resource, kubeconfig: string): ClusterAccess {
  const secretKubeconfig = pulumi.secret(kubeconfig);
  const provider = new k8s.Provider(
    "existing-cluster",
    { kubeconfig: secretKubeconfig, enableServerSideApply: true },
    { parent },
  );
  return { provider, kubeconfig: secretKubeconfig, readiness: READY_CLUSTER };
}
