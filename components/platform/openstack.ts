/**
 * The OpenStack layer, wired from the stack config: network and security groups, the API endpoint,
 * the cloud provider's application credential, the admin key pair and the node pools.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { INGRESS_NODE_PORTS } from "../../lib/istio";
import { defaultCloudProviderRoles } from "../../stacks/keys/cluster";
import type { WorkerPoolConfig } from "../../stacks/keys/compute";
import { DEFAULT_NETWORK_MTU } from "../../stacks/keys/network";
import type { StackConfig } from "../../stacks/load";
import { keyPairName } from "../compute/keyPair";
import { NodePool, type NodePoolArgs } from "../compute/nodePool";
import { ApiEndpoint } from "../endpoint/apiEndpoint";
import { resourceName } from "../names";
import { ClusterNetwork, type NetworkPlacement } from "../network/clusterNetwork";
import type { NodeUserData } from "./cluster";
import { controlPlaneNodes, workerNodes } from "./nodes";

/** The OpenStack layer's results that the outputs and later layers use. */
export interface Infrastructure {
  readonly network: ClusterNetwork;
  readonly apiEndpoint: ApiEndpoint;
  readonly controlPlane: NodePool;
  readonly workerPools: readonly NodePool[];
  /** The in-cluster cloud provider's application credential: given by the stack, or created here. */
  readonly cloudCredential: CloudCredential;
  /** What the nodes boot with; carries the cluster's PKI when clusterMode is kubeadm. */
  readonly nodeUserData: NodeUserData;
}

export interface CloudCredential {
  readonly id: pulumi.Output<string>;
  /** Secret. */
  readonly secret: pulumi.Output<string>;
}

type PoolDefaults = Pick<
  NodePoolArgs,
  "clusterName" | "networkId" | "subnetId" | "keyPairName" | "protect" | "configDrive"
>;

/**
 * Builds everything on OpenStack. `userDataFor` is called once the API endpoint's address exists
 * (it goes into certificates and kubeadm's controlPlaneEndpoint), before any node is created.
 */
export function openstackLayer(
  parent: pulumi.Resource,
  config: StackConfig,
  userDataFor: (apiEndpoint: ApiEndpoint) => NodeUserData,
): Infrastructure {
  const provider = new openstack.Provider(
    "openstack",
    {
      ...(config.openstackCloud ? { cloud: config.openstackCloud } : {}),
      ...(config.openstackRegion ? { region: config.openstackRegion } : {}),
    },
    { parent },
  );
  const onOpenstack: pulumi.ComponentResourceOptions = { parent, providers: { openstack: provider } };
  const onOpenstackResource: pulumi.CustomResourceOptions = { parent, provider };
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
      loadBalancerProvider: config.loadBalancerProvider,
      ...(config.clusterMode === "kubeadm"
        ? {
            gatewayNodePorts: {
              ports: Object.values(INGRESS_NODE_PORTS),
              sources: config.ingressGatewaySourceRanges,
            },
          }
        : {}),
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
      networkId: network.networkId,
      subnetId: network.subnetId,
      floatingIpPool: network.externalNetworkName,
      ...(network.securityGroupIds.apiLoadBalancer
        ? { securityGroupId: network.securityGroupIds.apiLoadBalancer }
        : {}),
      allowedCidrs: [...config.adminCidrs, network.nodeCidr, network.routerGatewayCidr],
      ...(config.loadBalancerProvider === "ovn" ? { provider: "ovn" } : {}),
      routerReady: network.routerReady,
      protect: config.protectResources,
    },
    onOpenstack,
  );

  const cloudCredential = inClusterCredential(config, onOpenstackResource);

  const keyPair = config.sshPublicKey
    ? new openstack.compute.Keypair(
        resourceName(clusterName, "admin"),
        { name: keyPairName(clusterName, config.sshPublicKey), publicKey: config.sshPublicKey },
        onOpenstackResource,
      )
    : undefined;

  const nodeUserData = userDataFor(apiEndpoint);
  const poolDefaults: PoolDefaults = {
    clusterName,
    networkId: network.networkId,
    subnetId: network.subnetId,
    ...(keyPair ? { keyPairName: keyPair.name } : {}),
    protect: config.protectResources,
    configDrive: config.configDrive,
  };
  const controlPlane = new NodePool(
    `${clusterName}-control-plane`,
    {
      ...poolDefaults,
      pool: "control-plane",
      nodes: controlPlaneNodes(config),
      flavor: config.controlPlaneFlavor,
      image: config.nodeImage,
      serverGroupPolicy: config.controlPlaneServerGroupPolicy,
      securityGroupIds: [network.securityGroupIds.controlPlane],
      ...(config.controlPlaneBootVolumeSizeGb ? { bootVolume: { sizeGb: config.controlPlaneBootVolumeSizeGb } } : {}),
      userData: nodeUserData.forPool({ labels: {} }),
    },
    onOpenstack,
  );
  apiEndpoint.attach(
    controlPlane.nodes.map((node) => ({ name: node.spec.name, port: node.port, address: node.address })),
  );

  const workerPools = config.workerPools.map((pool) =>
    workerPool(config, pool, poolDefaults, network, nodeUserData, onOpenstack),
  );

  return { network, apiEndpoint, controlPlane, workerPools, cloudCredential, nodeUserData };
}

/**
 * The cloud-controller-manager and Cinder CSI authenticate with a credential of their own, revocable
 * alone: the stack's (cloudProviderCredential), or one created here with only the roles they need.
 * Keystone access rules are not used: every service whose keystonemiddleware lacks `service_type`
 * refuses tokens that carry them (keystonemiddleware auth_token, validate_allowed_request), which
 * would break the cloud provider on many clouds; roles are enforced everywhere. Its name carries
 * cloudProviderCredentialGeneration, so a bump replaces it (create, hand over, delete the old one).
 */
function inClusterCredential(config: StackConfig, opts: pulumi.CustomResourceOptions): CloudCredential {
  const given = config.cloudProviderCredential;
  if (given) return { id: pulumi.output(given.id), secret: pulumi.secret(given.secret) };
  const generation = config.cloudProviderCredentialGeneration;
  const name = resourceName(config.clusterName, "cloud-provider", ...(generation > 0 ? [generation] : []));
  const credential = new openstack.identity.ApplicationCredential(
    resourceName(config.clusterName, "cloud-provider"),
    {
      name,
      description: `${config.clusterName}: OpenStack cloud-controller-manager and Cinder CSI (managed by Pulumi)`,
      roles: config.cloudProviderRoles ?? defaultCloudProviderRoles(config.loadBalancerProvider),
      unrestricted: false,
    },
    opts,
  );
  return { id: credential.id, secret: credential.secret };
}

function workerPool(
  config: StackConfig,
  pool: WorkerPoolConfig,
  defaults: PoolDefaults,
  network: ClusterNetwork,
  nodeUserData: NodeUserData,
  opts: pulumi.ComponentResourceOptions,
): NodePool {
  return new NodePool(
    `${config.clusterName}-${pool.name}`,
    {
      ...defaults,
      // Losing a worker is routine: only the control plane and the network are protected.
      protect: false,
      pool: pool.name,
      nodes: workerNodes(config, pool),
      flavor: pool.flavor,
      image: pool.image ?? config.nodeImage,
      serverGroupPolicy: pool.serverGroupPolicy,
      securityGroupIds: [network.securityGroupIds.worker],
      ...(pool.bootVolume ? { bootVolume: pool.bootVolume } : {}),
      ...(pool.floatingIps
        ? { floatingIpPool: network.externalNetworkName, floatingIpDependsOn: network.routerReady }
        : {}),
      userData: nodeUserData.forPool({ labels: pool.labels, taints: pool.taints }),
    },
    opts,
  );
}

function networkPlacement(config: StackConfig): NetworkPlacement {
  if (config.networkMode === "existing") {
    // Config validation guarantees the three ids in existing mode.
    return {
      mode: "existing",
      networkId: config.existingNetworkId as string,
      subnetId: config.existingSubnetId as string,
      routerId: config.existingRouterId as string,
    };
  }
  return {
    mode: "create",
    mtu: config.networkMtu ?? DEFAULT_NETWORK_MTU,
    dnsNameservers: config.dnsNameservers,
    allocationPool: {
      ...(config.allocationPoolStart ? { start: config.allocationPoolStart } : {}),
      ...(config.allocationPoolEnd ? { end: config.allocationPoolEnd } : {}),
    },
  };
}
