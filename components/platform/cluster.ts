/**
 * The Kubernetes layer on the OpenStack nodes, wired from the stack config: what each node boots
 * with (kubeadm and the Pulumi-owned PKI, or only node preparation in openstack-only mode), the
 * readiness gate and provider, and the add-ons every workload needs.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../stacks/load";
import { ClusterAddons } from "../cluster/addons/clusterAddons";
import { renderUserData } from "../cluster/bootstrap/cloudInit";
import { ClusterBootstrap, type NodeKubernetesSettings } from "../cluster/clusterBootstrap";
import { KubernetesCluster } from "../cluster/kubernetesCluster";
import type { NodeSpec } from "../compute/layout";
import type { ApiEndpoint } from "../endpoint/apiEndpoint";
import { nodeSoftware } from "./nodeSoftware";
import { allNodes } from "./nodes";
import type { Infrastructure } from "./openstack";

/**
 * What a workload waits for, by what it needs (all empty for an existing cluster, which has them).
 * Each list is also what must outlive the workload on destroy.
 */
export interface ClusterReadiness {
  /** Ordinary pods: the pod network (Calico) and initialised nodes (the cloud-controller-manager). */
  readonly pods: pulumi.Resource[];
  /** A LoadBalancer Service's address: the cloud-controller-manager, which deletes its Octavia load balancer. */
  readonly loadBalancers: pulumi.Resource[];
  /** A PersistentVolumeClaim of the default StorageClass: Cinder CSI, which deletes its volume. */
  readonly volumes: pulumi.Resource[];
}

/** How later layers reach the cluster: built here (kubeadm) or given (existing). */
export interface ClusterAccess {
  readonly provider: k8s.Provider;
  /** Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly readiness: ClusterReadiness;
}

/** An existing cluster comes with its network, cloud provider and storage. */
export const READY_CLUSTER: ClusterReadiness = { pods: [], loadBalancers: [], volumes: [] };

export type NodeUserDataFn = (
  node: NodeSpec,
  port: openstack.networking.Port,
  peers: pulumi.Output<string[]>,
) => pulumi.Input<string>;

export interface NodeUserData {
  /** The cluster's PKI and kubeadm documents; undefined in openstack-only mode. */
  readonly bootstrap?: ClusterBootstrap;
  /** The user data of a pool's nodes, given the pool's Kubernetes labels and taints. */
  forPool(settings: NodeKubernetesSettings): NodeUserDataFn;
}

export function nodeUserData(parent: pulumi.Resource, config: StackConfig, apiEndpoint: ApiEndpoint): NodeUserData {
  const software = nodeSoftware(config);
  if (config.clusterMode !== "kubeadm") {
    return {
      forPool: () => (node) =>
        renderUserData({ hostname: node.name, kubernetesVersion: config.kubernetesVersion, software }),
    };
  }
  const bootstrap = new ClusterBootstrap(
    `${config.clusterName}-bootstrap`,
    {
      clusterName: config.clusterName,
      kubernetesVersion: config.kubernetesVersion,
      software,
      podCidr: config.podCidr,
      serviceCidr: config.serviceCidr,
      endpointAddress: apiEndpoint.address,
      endpointInternalAddress: apiEndpoint.internalAddress,
      protect: config.protectResources,
      nodeNames: allNodes(config).map((node) => node.name),
      joinWindowMinutes: config.joinTokenTtlMinutes,
    },
    { parent },
  );
  return {
    bootstrap,
    forPool: (settings) => (node, port, peers) => bootstrap.userData(node, port, peers, settings),
  };
}

/** The readiness gate, the Kubernetes provider and the add-ons, once the nodes exist. */
export function kubernetesLayer(
  parent: pulumi.Resource,
  config: StackConfig,
  infrastructure: Infrastructure,
  bootstrap: ClusterBootstrap,
): ClusterAccess {
  const { apiEndpoint, controlPlane, workerPools, network, cloudCredential } = infrastructure;
  const kubernetesCluster = new KubernetesCluster(
    `${config.clusterName}-cluster`,
    {
      clusterName: config.clusterName,
      endpointAddress: apiEndpoint.address,
      pki: bootstrap.pki,
      nodes: [controlPlane, ...workerPools, apiEndpoint],
      nodeInstanceIds: [controlPlane, ...workerPools].flatMap((pool) => pool.nodes.map((node) => node.instance.id)),
      readinessTimeoutSeconds: config.readinessTimeoutSeconds,
      joinWindowMinutes: config.joinTokenTtlMinutes,
    },
    { parent },
  );
  const addons = new ClusterAddons(
    `${config.clusterName}-addons`,
    {
      clusterName: config.clusterName,
      podCidr: config.podCidr,
      networkMtu: network.mtu,
      chartRepositories: config.chartRepositories,
      cloud: pulumi.output({
        // Config validation guarantees a Keystone URL in kubeadm mode (given, or the deployer's).
        authUrl: config.keystoneUrl as string,
        ...(cloudRegion(config) ? { region: cloudRegion(config) } : {}),
        applicationCredentialId: cloudCredential.id,
        applicationCredentialSecret: cloudCredential.secret,
        floatingNetworkId: network.externalNetworkId,
        subnetId: network.subnetId,
        loadBalancerProvider: config.loadBalancerProvider,
      }),
      // OCCM reports a node's floating IP as ExternalIP, and the kubelet asks for a serving
      // certificate for every address of its node.
      nodeAddressPrefixes: [
        network.nodeCidr,
        ...workerPools.flatMap((pool) =>
          pool.nodes.flatMap((node) => (node.floatingIp ? [node.floatingIp.apply((ip) => `${ip}/32`)] : [])),
        ),
      ],
      credentialId: cloudCredential.id,
    },
    { parent, providers: { kubernetes: kubernetesCluster.provider } },
  );
  return {
    provider: kubernetesCluster.provider,
    kubeconfig: kubernetesCluster.kubeconfig,
    readiness: {
      pods: [...addons.podNetwork, ...addons.cloudProvider],
      loadBalancers: addons.cloudProvider,
      volumes: addons.storage,
    },
  };
}

/** The region the cloud provider works in: the stack's, else the deployer's (clouds.yaml or OS_REGION_NAME). */
function cloudRegion(config: StackConfig): string | undefined {
  return config.openstackRegion ?? config.deployer.region;
}
