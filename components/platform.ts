import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../stacks/load";
import { ClusterNetwork, type NetworkPlacement } from "./network/clusterNetwork";

export interface PlatformArgs {
  readonly config: StackConfig;
}

/**
 * The whole platform as one dependency graph, left to right: network → nodes and API endpoint →
 * Kubernetes → add-ons → mesh → observability. Each layer sees only the outputs of the ones before.
 */
export class Platform extends pulumi.ComponentResource {
  readonly network: ClusterNetwork;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:index:Platform", name, {}, opts);
    const { config } = args;

    const openstackProvider = new openstack.Provider(
      "openstack",
      {
        ...(config.openstackCloud ? { cloud: config.openstackCloud } : {}),
        ...(config.openstackRegion ? { region: config.openstackRegion } : {}),
      },
      { parent: this },
    );
    const onOpenstack: pulumi.ComponentResourceOptions = { parent: this, providers: { openstack: openstackProvider } };

    const apiBehindLoadBalancer = config.controlPlaneCount > 1;
    this.network = new ClusterNetwork(
      `${config.clusterName}-network`,
      {
        clusterName: config.clusterName,
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

    this.registerOutputs({});
  }
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
