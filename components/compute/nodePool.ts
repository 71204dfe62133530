import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { resourceName } from "../names";
import type { NodeSpec } from "./layout";

export interface BootVolume {
  readonly sizeGb: number;
  readonly volumeType?: string;
}

export interface NodePoolArgs {
  readonly clusterName: string;
  readonly pool: string;
  readonly nodes: readonly NodeSpec[];
  readonly flavor: string;
  /** Glance image, by name or id. */
  readonly image: string;
  readonly serverGroupPolicy: string;
  readonly networkId: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupIds: pulumi.Input<string>[];
  readonly keyPairName?: pulumi.Input<string>;
  readonly bootVolume?: BootVolume;
  /** Floating IP pool (the external network's name) when the pool's nodes get floating IPs. */
  readonly floatingIpPool?: pulumi.Input<string>;
  /** Resources a floating IP association must wait for (the router interface). */
  readonly floatingIpDependsOn?: pulumi.Resource[];
  /**
   * User data of each node; may depend on values known only once ports exist: its own address and
   * its peers' (the other nodes of the pool).
   */
  readonly userData: (
    node: NodeSpec,
    port: openstack.networking.Port,
    peers: pulumi.Output<string[]>,
  ) => pulumi.Input<string>;
  readonly protect: boolean;
  /**
   * Boot with a config drive: cloud-init reads the user data from the drive, so a node never needs
   * the metadata service (which serves the same user data to anything on the node's address).
   */
  readonly configDrive: boolean;
}

export interface PoolNode {
  readonly spec: NodeSpec;
  readonly port: openstack.networking.Port;
  readonly address: pulumi.Output<string>;
  readonly instance: openstack.compute.Instance;
  readonly floatingIp?: pulumi.Output<string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One pool of Nova instances: a server group, a Neutron port per node with the role's security
 * groups, the instances, and floating IPs where asked. A change of user data or image never
 * rebuilds a running node (ignoreChanges); replacing nodes is an explicit roll (docs/operations.md).
 */
export class NodePool extends pulumi.ComponentResource {
  readonly serverGroupId: pulumi.Output<string>;
  readonly nodes: readonly PoolNode[];

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:compute:NodePool", name, {}, opts);

    const serverGroup = new openstack.compute.ServerGroup(
      resourceName(args.clusterName, args.pool),
      { name: resourceName(args.clusterName, args.pool), policies: [args.serverGroupPolicy] },
      { parent: this },
    );
    this.serverGroupId = serverGroup.id;

    const imageIsId = UUID.test(args.image);
    const bootImageId =
      args.bootVolume && !imageIsId
        ? openstack.images.getImageOutput({ name: args.image, mostRecent: true }, { parent: this }).id
        : args.image;

    // Every port first: a node's user data may name its peers' addresses.
    const ports = args.nodes.map(
      (spec) =>
        new openstack.networking.Port(
          spec.name,
          {
            name: spec.name,
            networkId: args.networkId,
            fixedIps: [{ subnetId: args.subnetId }],
            securityGroupIds: args.securityGroupIds,
            adminStateUp: true,
          },
          { parent: this },
        ),
    );
    const addresses = ports.map((port) => port.allFixedIps.apply((ips) => ips[0]));

    this.nodes = args.nodes.map((spec, i) => {
      const port = ports[i];
      const address = addresses[i];
      const peers = pulumi.all(addresses.filter((_, j) => j !== i));
      const instance = new openstack.compute.Instance(
        spec.name,
        {
          name: spec.name,
          flavorName: args.flavor,
          ...(args.bootVolume
            ? {
                blockDevices: [
                  {
                    sourceType: "image",
                    uuid: bootImageId,
                    destinationType: "volume",
                    volumeSize: args.bootVolume.sizeGb,
                    ...(args.bootVolume.volumeType ? { volumeType: args.bootVolume.volumeType } : {}),
                    bootIndex: 0,
                    deleteOnTermination: true,
                  },
                ],
              }
            : imageIsId
              ? { imageId: args.image }
              : { imageName: args.image }),
          networks: [{ port: port.id }],
          schedulerHints: [{ group: serverGroup.id }],
          ...(args.keyPairName ? { keyPair: args.keyPairName } : {}),
          ...(spec.availabilityZone ? { availabilityZone: spec.availabilityZone } : {}),
          userData: args.userData(spec, port, peers),
          metadata: { cluster: args.clusterName, role: spec.role, pool: spec.pool },
          configDrive: args.configDrive,
          stopBeforeDestroy: true,
        },
        {
          parent: this,
          protect: args.protect,
          // Templates and images change often; a silent rebuild of every node would be an outage.
          // The keypair is only read at first boot: a new sshPublicKey is for new nodes (its
          // keypair's name changes with the key, which would otherwise rebuild every node). A config
          // drive is attached at boot (the provider replaces the server to change it): new nodes.
          ignoreChanges: ["userData", "imageName", "imageId", "blockDevices", "keyPair", "configDrive"],
        },
      );
      const floatingIp = args.floatingIpPool
        ? this.floatingIpFor(spec, port, args.floatingIpPool, args.floatingIpDependsOn ?? [])
        : undefined;
      return { spec, port, address, instance, ...(floatingIp ? { floatingIp } : {}) };
    });

    this.registerOutputs({
      serverGroupId: this.serverGroupId,
      nodes: this.nodes.map((node) => ({ name: node.spec.name, address: node.address })),
    });
  }

  private floatingIpFor(
    spec: NodeSpec,
    port: openstack.networking.Port,
    pool: pulumi.Input<string>,
    dependsOn: pulumi.Resource[],
  ): pulumi.Output<string> {
    const floatingIp = new openstack.networking.FloatingIp(
      `${spec.name}-fip`,
      { pool, description: `${spec.name} (managed by Pulumi)` },
      { parent: this },
    );
    new openstack.networking.FloatingIpAssociate(
      `${spec.name}-fip`,
      { floatingIp: floatingIp.address, portId: port.id },
      { parent: this, dependsOn },
    );
    return floatingIp.address;
  }
}
