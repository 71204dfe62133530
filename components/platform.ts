import * as k8s from "@pulumi/kubernetes";
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { WorkerPoolConfig } from "../stacks/keys/compute";
import type { StackConfig } from "../stacks/load";
import { ClusterAddons } from "./cluster/addons/clusterAddons";
import { renderUserData } from "./cluster/bootstrap/cloudInit";
import { ClusterBootstrap, type NodeKubernetesSettings } from "./cluster/clusterBootstrap";
import { KubernetesCluster } from "./cluster/kubernetesCluster";
import { keyPairName } from "./compute/keyPair";
import { type NodeSpec, poolNodes } from "./compute/layout";
import { NodePool, type NodePoolArgs } from "./compute/nodePool";
import { ApiEndpoint } from "./endpoint/apiEndpoint";
import { buildMeshLayers, type ClusterAccess as MeshClusterAccess, type MeshLayers } from "./mesh";
import { resourceName } from "./names";
import { ClusterNetwork, type NetworkPlacement } from "./network/clusterNetwork";

export interface PlatformArgs {
  readonly config: StackConfig;
}

/**
 * How later layers reach the cluster: built here (kubeadm) or given (existing). The mesh needs the
 * provider and what to wait for (CNI, cloud provider, CSI; nothing for an existing cluster).
 */
export interface ClusterAccess extends MeshClusterAccess {
  /** Secret. */
  readonly kubeconfig: pulumi.Output<string>;
}

/** The OpenStack layer's results that the outputs and later layers use. */
export interface Infrastructure {
  readonly network: ClusterNetwork;
  readonly apiEndpoint: ApiEndpoint;
  readonly controlPlane: NodePool;
  readonly workerPools: readonly NodePool[];
  readonly applicationCredential: openstack.identity.ApplicationCredential;
}

/**
 * The whole platform as one dependency graph, left to right: network → API endpoint and nodes →
 * Kubernetes → add-ons → mesh → observability. Each layer sees only the outputs of the ones before.
 */
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
      const provider = new k8s.Provider(
        "existing-cluster",
        { kubeconfig: pulumi.secret(config.existingKubeconfig as string), enableServerSideApply: true },
        { parent: this },
      );
      this.cluster = { provider, kubeconfig: pulumi.secret(config.existingKubeconfig as string), addonsReady: [] };
    } else {
      const built = this.buildOnOpenstack(config);
      this.infrastructure = built.infrastructure;
      this.cluster = built.cluster;
    }
    if (this.cluster) this.mesh = buildMeshLayers(this, config, this.cluster);

    this.registerOutputs({});
  }

  private buildOnOpenstack(config: StackConfig): { infrastructure: Infrastructure; cluster?: ClusterAccess } {
    const openstackProvider = new openstack.Provider(
      "openstack",
      {
        ...(config.openstackCloud ? { cloud: config.openstackCloud } : {}),
        ...(config.openstackRegion ? { region: config.openstackRegion } : {}),
      },
      { parent: this },
    );
    const onOpenstack: pulumi.ComponentResourceOptions = { parent: this, providers: { openstack: openstackProvider } };
    const onOpenstackResource: pulumi.CustomResourceOptions = { parent: this, provider: openstackProvider };
    const clusterName = config.clusterName;
    const apiBehindLoadBalancer = config.controlPlaneCount > 1;

    const network = new ClusterNetwork(
      `${clusterName}-network`,
      {
        clusterName,
        placement: networkPlacement(config),
        nodeCidr: config.nodeCidr,
        externalNetwork: config.externalNetwork,
        adminCidrs: config.adminCidrs,
        apiBehindLoadBalancer,
        sshEnabled: config.sshPublicKey !== undefined,
        protect: config.protectResources,
      },
      onOpenstack,
    );

    const apiEndpoint = new ApiEndpoint(
      `${clusterName}-api`,
      {
        clusterName,
        loadBalancer: apiBehindLoadBalancer,
        subnetId: network.subnetId,
        floatingIpPool: network.externalNetworkName,
        ...(network.securityGroupIds.apiLoadBalancer
          ? { securityGroupId: network.securityGroupIds.apiLoadBalancer }
          : {}),
        allowedCidrs: [...config.adminCidrs, network.nodeCidr],
        routerReady: network.routerReady,
        protect: config.protectResources,
      },
      onOpenstack,
    );

    // The cloud-controller-manager and Cinder CSI authenticate with a credential of their own, revocable alone.
    const applicationCredential = new openstack.identity.ApplicationCredential(
      resourceName(clusterName, "cloud-provider"),
      {
        name: resourceName(clusterName, "cloud-provider"),
        description: `${clusterName}: OpenStack cloud-controller-manager and Cinder CSI (managed by Pulumi)`,
        unrestricted: false,
      },
      onOpenstackResource,
    );

    const keyPair = config.sshPublicKey
      ? new openstack.compute.Keypair(
          resourceName(clusterName, "admin"),
          { name: keyPairName(clusterName, config.sshPublicKey), publicKey: config.sshPublicKey },
          onOpenstackResource,
        )
      : undefined;

    const bootstrap =
      config.clusterMode === "kubeadm"
        ? new ClusterBootstrap(
            `${clusterName}-bootstrap`,
            {
              clusterName,
              kubernetesVersion: config.kubernetesVersion,
              aptRepositoryMinor: aptMinor(config.kubernetesVersion),
              podCidr: config.podCidr,
              serviceCidr: config.serviceCidr,
              endpointAddress: apiEndpoint.address,
              endpointInternalAddress: apiEndpoint.internalAddress,
            },
            { parent: this },
          )
        : undefined;
    const userData =
      (settings: NodeKubernetesSettings) =>
      (node: NodeSpec, port: openstack.networking.Port): pulumi.Input<string> =>
        bootstrap
          ? bootstrap.userData(node, port, settings)
          : renderUserData({
              hostname: node.name,
              kubernetesVersion: config.kubernetesVersion,
              aptRepositoryMinor: aptMinor(config.kubernetesVersion),
            });

    const commonPool = {
      clusterName,
      networkId: network.networkId,
      subnetId: network.subnetId,
      ...(keyPair ? { keyPairName: keyPair.name } : {}),
      protect: config.protectResources,
    };
    const controlPlane = new NodePool(
      `${clusterName}-control-plane`,
      {
        ...commonPool,
        pool: "control-plane",
        nodes: poolNodes({
          clusterName,
          pool: "control-plane",
          role: "control-plane",
          count: config.controlPlaneCount,
          availabilityZones: config.availabilityZones,
          generation: 0,
        }),
        flavor: config.controlPlaneFlavor,
        image: config.nodeImage,
        serverGroupPolicy: config.controlPlaneServerGroupPolicy,
        securityGroupIds: [network.securityGroupIds.controlPlane],
        ...(config.controlPlaneBootVolumeSizeGb ? { bootVolume: { sizeGb: config.controlPlaneBootVolumeSizeGb } } : {}),
        userData: userData({ labels: {} }),
      },
      onOpenstack,
    );
    apiEndpoint.attach(
      controlPlane.nodes.map((node) => ({ name: node.spec.name, port: node.port, address: node.address })),
    );

    const workerPools = config.workerPools.map((pool) =>
      this.workerPool(config, pool, commonPool, network, userData, onOpenstack),
    );

    const infrastructure: Infrastructure = { network, apiEndpoint, controlPlane, workerPools, applicationCredential };
    if (!bootstrap) return { infrastructure };

    const kubernetesCluster = new KubernetesCluster(
      `${clusterName}-cluster`,
      {
        clusterName,
        endpointAddress: apiEndpoint.address,
        pki: bootstrap.pki,
        nodes: [controlPlane, ...workerPools, apiEndpoint],
        readinessTimeoutSeconds: config.readinessTimeoutSeconds,
      },
      { parent: this },
    );
    const addons = new ClusterAddons(
      `${clusterName}-addons`,
      {
        clusterName,
        podCidr: config.podCidr,
        networkMtu: config.networkMtu,
        chartRepositories: config.chartRepositories,
        cloud: pulumi.output({
          authUrl: config.keystoneUrl as string,
          ...(config.openstackRegion ? { region: config.openstackRegion } : {}),
          applicationCredentialId: applicationCredential.id,
          applicationCredentialSecret: applicationCredential.secret,
          floatingNetworkId: network.externalNetworkId,
          subnetId: network.subnetId,
        }),
      },
      { parent: this, providers: { kubernetes: kubernetesCluster.provider } },
    );
    return {
      infrastructure,
      cluster: {
        provider: kubernetesCluster.provider,
        kubeconfig: kubernetesCluster.kubeconfig,
        addonsReady: addons.ready,
      },
    };
  }

  private workerPool(
    config: StackConfig,
    pool: WorkerPoolConfig,
    common: Pick<NodePoolArgs, "clusterName" | "networkId" | "subnetId" | "keyPairName" | "protect">,
    network: ClusterNetwork,
    userData: (settings: NodeKubernetesSettings) => NodePoolArgs["userData"],
    opts: pulumi.ComponentResourceOptions,
  ): NodePool {
    return new NodePool(
      `${config.clusterName}-${pool.name}`,
      {
        ...common,
        // Losing a worker is routine: only the control plane and the network are protected.
        protect: false,
        pool: pool.name,
        nodes: poolNodes({
          clusterName: config.clusterName,
          pool: pool.name,
          role: "worker",
          count: pool.count,
          availabilityZones: pool.availabilityZones.length > 0 ? pool.availabilityZones : config.availabilityZones,
          generation: pool.generation,
        }),
        flavor: pool.flavor,
        image: pool.image ?? config.nodeImage,
        serverGroupPolicy: pool.serverGroupPolicy,
        securityGroupIds: [network.securityGroupIds.worker],
        ...(pool.bootVolume ? { bootVolume: pool.bootVolume } : {}),
        ...(pool.floatingIps
          ? { floatingIpPool: network.externalNetworkName, floatingIpDependsOn: network.routerReady }
          : {}),
        userData: userData({ labels: pool.labels, taints: pool.taints }),
      },
      opts,
    );
  }
}

/** pkgs.k8s.io serves one repository per minor version: 1.36.3 → v1.36. */
function aptMinor(version: string): string {
  const [major, minor] = version.split(".");
  return `v${major}.${minor}`;
}

function networkPlacement(config: StackConfig): NetworkPlacement {
  if (config.networkMode === "existing") {
    // Config validation guarantees both ids in existing mode.
    return {
      mode: "existing",
      networkId: config.existingNetworkId as string,
      subnetId: config.existingSubnetId as string,
      ...(config.existingRouterId ? { routerId: config.existingRouterId } : {}),
    };
  }
  return {
    mode: "create",
    mtu: config.networkMtu,
    dnsNameservers: config.dnsNameservers,
    allocationPool: {
      ...(config.allocationPoolStart ? { start: config.allocationPoolStart } : {}),
      ...(config.allocationPoolEnd ? { end: config.allocationPoolEnd } : {}),
    },
  };
}
