import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { resourceName } from "../names";
import { type AllocationPool, allocationPool, gatewayAddress, routerGatewayAddress } from "./layout";
import { type RuleLayoutInput, type RuleSpec, type SecurityGroupRole, securityGroupRules } from "./rules";

export type NetworkPlacement =
  | {
      readonly mode: "create";
      readonly mtu: number;
      readonly dnsNameservers: readonly string[];
      readonly allocationPool?: Partial<AllocationPool>;
    }
  | {
      readonly mode: "existing";
      readonly networkId: string;
      readonly subnetId: string;
      /** The router connecting the subnet to the external network: its gateway address is admitted to the API. */
      readonly routerId: string;
    };

export interface ClusterNetworkArgs {
  readonly clusterName: string;
  readonly placement: NetworkPlacement;
  /** In existing mode, the existing subnet's CIDR: checked against OpenStack at deploy time. */
  readonly nodeCidr: string;
  /** External network by name or id. */
  readonly externalNetwork: string;
  readonly adminCidrs: readonly string[];
  readonly apiBehindLoadBalancer: boolean;
  readonly loadBalancerProvider: RuleLayoutInput["loadBalancerProvider"];
  readonly gatewayNodePorts?: RuleLayoutInput["gatewayNodePorts"];
  readonly sshEnabled: boolean;
  readonly protect: boolean;
}

export type SecurityGroupIds = {
  readonly controlPlane: pulumi.Output<string>;
  readonly worker: pulumi.Output<string>;
  /** Only when the API is behind an Octavia load balancer. */
  readonly apiLoadBalancer?: pulumi.Output<string>;
};

/** Fails the deployment when the existing subnet is not the range the security rules were computed for. */
export function checkExistingSubnetCidr(subnetId: string, actual: string, configured: string): string {
  if (actual !== configured) {
    throw new Error(
      `existingSubnetId ${subnetId} has CIDR ${actual}, but nodeCidr is ${configured}: set nodeCidr to ${actual}`,
    );
  }
  return actual;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The node network: network, subnet, router to the external network, and one security group per
 * role with least-privilege rules. In existing mode the network, subnet and router are the user's;
 * only the security groups are created.
 */
export class ClusterNetwork extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>;
  readonly subnetId: pulumi.Output<string>;
  readonly routerId: pulumi.Output<string>;
  /**
   * The router's gateway address as a /32: the source the API sees when a node connects to the API's
   * floating IP (the router SNATs hairpinned traffic), admitted wherever the admin CIDRs are.
   */
  readonly routerGatewayCidr: pulumi.Output<string>;
  readonly nodeCidr: pulumi.Output<string>;
  /** The node network's MTU as Neutron reports it: the pod network's MTU is derived from it. */
  readonly mtu: pulumi.Output<number>;
  readonly externalNetworkId: pulumi.Output<string>;
  readonly externalNetworkName: pulumi.Output<string>;
  readonly securityGroupIds: SecurityGroupIds;
  /** What a floating IP needs before it can be associated: the router interface to the node subnet. */
  readonly routerReady: pulumi.Resource[];

  constructor(name: string, args: ClusterNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:network:ClusterNetwork", name, {}, opts);
    const child: pulumi.CustomResourceOptions = { parent: this };
    const kept: pulumi.CustomResourceOptions = { parent: this, protect: args.protect };

    const external = UUID.test(args.externalNetwork)
      ? openstack.networking.getNetworkOutput({ networkId: args.externalNetwork }, { parent: this })
      : openstack.networking.getNetworkOutput({ name: args.externalNetwork, external: true }, { parent: this });
    this.externalNetworkId = external.id;
    this.externalNetworkName = external.apply((network) => network.name ?? args.externalNetwork);

    if (args.placement.mode === "create") {
      const network = new openstack.networking.Network(
        resourceName(args.clusterName, "network"),
        {
          name: resourceName(args.clusterName, "network"),
          adminStateUp: true,
          mtu: args.placement.mtu,
          portSecurityEnabled: true,
        },
        kept,
      );
      const pool = allocationPool(args.nodeCidr, args.placement.allocationPool);
      const subnet = new openstack.networking.Subnet(
        resourceName(args.clusterName, "nodes"),
        {
          name: resourceName(args.clusterName, "nodes"),
          networkId: network.id,
          cidr: args.nodeCidr,
          ipVersion: 4,
          gatewayIp: gatewayAddress(args.nodeCidr),
          enableDhcp: true,
          dnsNameservers: [...args.placement.dnsNameservers],
          allocationPools: [{ start: pool.start, end: pool.end }],
        },
        kept,
      );
      const router = new openstack.networking.Router(
        resourceName(args.clusterName, "router"),
        { name: resourceName(args.clusterName, "router"), adminStateUp: true, externalNetworkId: external.id },
        kept,
      );
      const routerInterface = new openstack.networking.RouterInterface(
        resourceName(args.clusterName, "router", "nodes"),
        { routerId: router.id, subnetId: subnet.id },
        child,
      );
      this.networkId = network.id;
      this.subnetId = subnet.id;
      this.routerId = router.id;
      this.routerGatewayCidr = pulumi
        .all([router.id, router.externalFixedIps])
        .apply(([id, ips]) => `${routerGatewayAddress(id, ips)}/32`);
      this.mtu = network.mtu;
      this.nodeCidr = subnet.cidr;
      this.routerReady = [routerInterface];
    } else {
      const existing = args.placement;
      const existingCidr = openstack.networking.getSubnetOutput({ subnetId: existing.subnetId }, { parent: this }).cidr;
      this.networkId = pulumi.output(existing.networkId);
      this.subnetId = pulumi.output(existing.subnetId);
      this.routerId = pulumi.output(existing.routerId);
      this.routerGatewayCidr = openstack.networking
        .getRouterOutput({ routerId: existing.routerId }, { parent: this })
        .externalFixedIps.apply((ips) => `${routerGatewayAddress(existing.routerId, ips)}/32`);
      // The network's own MTU, not networkMtu: a 1400-MTU network with Calico at 1450 - 50 drops large packets silently.
      this.mtu = openstack.networking
        .getNetworkOutput({ networkId: existing.networkId }, { parent: this })
        .apply(({ mtu }) => {
          if (mtu === undefined || mtu <= 0) {
            throw new Error(`network ${existing.networkId} reports no MTU: Neutron's net-mtu extension is needed`);
          }
          return mtu;
        });
      // Security rules are derived from nodeCidr: refuse to open them for a CIDR the subnet does not have.
      this.nodeCidr = existingCidr.apply((actual) => checkExistingSubnetCidr(existing.subnetId, actual, args.nodeCidr));
      this.routerReady = [];
    }

    const rules = securityGroupRules({
      nodeCidr: args.nodeCidr,
      adminCidrs: args.adminCidrs,
      apiBehindLoadBalancer: args.apiBehindLoadBalancer,
      loadBalancerProvider: args.loadBalancerProvider,
      ...(args.gatewayNodePorts ? { gatewayNodePorts: args.gatewayNodePorts } : {}),
      sshEnabled: args.sshEnabled,
    });
    const groups = {} as Record<SecurityGroupRole, openstack.networking.SecGroup>;
    const roleNames: Record<SecurityGroupRole, string> = {
      controlPlane: "control-plane",
      worker: "worker",
      apiLoadBalancer: "api-lb",
    };
    for (const role of Object.keys(rules) as SecurityGroupRole[]) {
      if (rules[role].length === 0) continue;
      const groupName = resourceName(args.clusterName, roleNames[role]);
      groups[role] = new openstack.networking.SecGroup(
        groupName,
        { name: groupName, description: `${args.clusterName}: ${roleNames[role]} nodes (managed by Pulumi)` },
        child,
      );
    }
    for (const role of Object.keys(groups) as SecurityGroupRole[]) {
      for (const spec of rules[role]) this.createRule(groups[role], roleNames[role], spec, groups, args.clusterName);
    }

    this.securityGroupIds = {
      controlPlane: groups.controlPlane.id,
      worker: groups.worker.id,
      ...(groups.apiLoadBalancer ? { apiLoadBalancer: groups.apiLoadBalancer.id } : {}),
    };

    this.registerOutputs({
      networkId: this.networkId,
      subnetId: this.subnetId,
      routerId: this.routerId,
      nodeCidr: this.nodeCidr,
      externalNetworkId: this.externalNetworkId,
      securityGroupIds: this.securityGroupIds,
    });
  }

  private createRule(
    group: openstack.networking.SecGroup,
    roleName: string,
    spec: RuleSpec,
    groups: Record<SecurityGroupRole, openstack.networking.SecGroup>,
    clusterName: string,
  ): void {
    const source =
      "group" in spec.source
        ? { remoteGroupId: groups[spec.source.group].id }
        : { remoteIpPrefix: "cidr" in spec.source ? spec.source.cidr : this.routerGatewayCidr };
    new openstack.networking.SecGroupRule(
      resourceName(clusterName, roleName, spec.id),
      {
        securityGroupId: group.id,
        description: spec.description,
        direction: "ingress",
        ethertype: "IPv4",
        protocol: spec.protocol,
        ...(spec.portMin !== undefined ? { portRangeMin: spec.portMin, portRangeMax: spec.portMax } : {}),
        ...source,
      },
      { parent: group },
    );
  }
}
