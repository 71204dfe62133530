import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { resourceName } from "../names";

export const API_PORT = 6443;

export interface ApiEndpointArgs {
  readonly clusterName: string;
  /** HA: an Octavia load balancer with a floating IP on its VIP. Otherwise a floating IP for the only control-plane node. */
  readonly loadBalancer: boolean;
  readonly networkId: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  readonly floatingIpPool: pulumi.Input<string>;
  /** Security group of the load balancer's VIP port. */
  readonly securityGroupId?: pulumi.Input<string>;
  /** Octavia's listener-level allow list: admin CIDRs plus the node subnet. */
  readonly allowedCidrs: pulumi.Input<string>[];
  /**
   * Octavia's provider. ovn supports no allowed_cidrs and no listener timeouts, balances only by
   * SOURCE_IP_PORT and checks health by TCP, not HTTPS (Octavia's provider feature matrix;
   * cluster-api-provider-openstack checks the same before it sets them): the allow list is left to
   * the control-plane nodes' security group.
   */
  readonly provider?: "amphora" | "ovn";
  /** The router interface: a floating IP cannot be associated before the subnet reaches the router. */
  readonly routerReady: pulumi.Resource[];
  readonly protect: boolean;
}

/**
 * The allow list the way Octavia stores and returns it: unique, in string order (its listener_cidr
 * table is keyed by (listener, cidr) and read back in key order). Any other order is a perpetual
 * diff: every preview and refresh would propose to rewrite the listener.
 */
export function octaviaCidrOrder(cidrs: readonly string[]): string[] {
  return [...new Set(cidrs)].sort();
}

export interface ControlPlaneBackend {
  readonly name: string;
  readonly port: openstack.networking.Port;
  readonly address: pulumi.Input<string>;
}

/**
 * The Kubernetes API address, known before any node boots so that it can go into the API server
 * certificate and kubeadm's controlPlaneEndpoint. Backends are attached once the control-plane
 * ports exist (`attach`).
 *
 * HA: the VIP is a Neutron port this component creates and hands to Octavia (`vipPortId`), so its
 * address is known seconds into `pulumi up` and the nodes (whose certificates carry it) boot while
 * Octavia boots its amphora, instead of after (docs/performance.md). Octavia leaves a VIP port it did
 * not create in place when the load balancer is deleted (octavia allowed_address_pairs
 * `deallocate_vip`: "will not be deleted by Octavia as it was not created by Octavia"); Pulumi
 * deletes it after the load balancer. The address also survives a replacement of the load balancer.
 */
export class ApiEndpoint extends pulumi.ComponentResource {
  /** The public address clients use: the floating IP. */
  readonly address: pulumi.Output<string>;
  /** The address inside the node subnet (the VIP), or undefined for a single node. */
  readonly internalAddress: pulumi.Output<string | undefined>;
  readonly loadBalancerId: pulumi.Output<string | undefined>;
  private readonly pool?: openstack.loadbalancer.Pool;
  private readonly floatingIp: openstack.networking.FloatingIp;
  private readonly args: ApiEndpointArgs;

  constructor(name: string, args: ApiEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:endpoint:ApiEndpoint", name, {}, opts);
    this.args = args;
    const lbName = resourceName(args.clusterName, "api");

    this.floatingIp = new openstack.networking.FloatingIp(
      resourceName(args.clusterName, "api"),
      { pool: args.floatingIpPool, description: `${args.clusterName} Kubernetes API (managed by Pulumi)` },
      { parent: this, protect: args.protect },
    );
    this.address = this.floatingIp.address;

    if (!args.loadBalancer) {
      this.internalAddress = pulumi.output<string | undefined>(undefined);
      this.loadBalancerId = pulumi.output<string | undefined>(undefined);
      this.registerOutputs({ address: this.address });
      return;
    }

    const securityGroupIds = args.securityGroupId ? { securityGroupIds: [args.securityGroupId] } : {};
    const vipPort = new openstack.networking.Port(
      resourceName(args.clusterName, "api", "vip"),
      {
        name: resourceName(args.clusterName, "api", "vip"),
        description: `${args.clusterName} Kubernetes API VIP (managed by Pulumi)`,
        networkId: args.networkId,
        fixedIps: [{ subnetId: args.subnetId }],
        ...securityGroupIds,
        adminStateUp: true,
      },
      {
        parent: this,
        protect: args.protect,
        // The address is in every node's certificate and kubeadm documents: never re-address the port in place.
        ignoreChanges: ["fixedIps"],
      },
    );
    const ovn = args.provider === "ovn";
    const loadBalancer = new openstack.loadbalancer.LoadBalancer(
      lbName,
      {
        name: lbName,
        vipPortId: vipPort.id,
        vipSubnetId: args.subnetId,
        ...(ovn ? { loadbalancerProvider: "ovn" } : {}),
        // Octavia puts its own group on the VIP port; the provider sets ours back after the create, as before.
        ...securityGroupIds,
        description: `${args.clusterName} Kubernetes API (managed by Pulumi)`,
      },
      { parent: this, protect: args.protect },
    );
    const listener = new openstack.loadbalancer.Listener(
      lbName,
      {
        name: lbName,
        loadbalancerId: loadBalancer.id,
        protocol: "TCP",
        protocolPort: API_PORT,
        ...(ovn
          ? {}
          : {
              allowedCidrs: pulumi.all(args.allowedCidrs).apply(octaviaCidrOrder),
              // kubectl exec/logs/watch streams stay open for long; Octavia's 50 s default would cut them.
              timeoutClientData: 3_600_000,
              timeoutMemberData: 3_600_000,
            }),
      },
      { parent: this },
    );
    this.pool = new openstack.loadbalancer.Pool(
      lbName,
      { name: lbName, listenerId: listener.id, protocol: "TCP", lbMethod: ovn ? "SOURCE_IP_PORT" : "ROUND_ROBIN" },
      { parent: this },
    );
    new openstack.loadbalancer.Monitor(
      lbName,
      {
        name: lbName,
        poolId: this.pool.id,
        // /readyz answers anonymous clients: a member is in rotation only once its API server is ready.
        ...(ovn ? { type: "TCP" } : { type: "HTTPS", urlPath: "/readyz", expectedCodes: "200" }),
        delay: 10,
        timeout: 5,
        maxRetries: 3,
        maxRetriesDown: 3,
      },
      { parent: this },
    );
    // On the VIP port itself: the association does not wait for the amphora.
    new openstack.networking.FloatingIpAssociate(
      lbName,
      { floatingIp: this.floatingIp.address, portId: vipPort.id },
      { parent: this, dependsOn: args.routerReady },
    );
    this.internalAddress = vipPort.allFixedIps.apply((ips) => ips[0]);
    this.loadBalancerId = loadBalancer.id;
    this.registerOutputs({ address: this.address, internalAddress: this.internalAddress });
  }

  /** Puts the control-plane nodes behind the endpoint: pool members (HA) or the floating IP on the only node. */
  attach(backends: readonly ControlPlaneBackend[]): void {
    if (this.pool) {
      for (const backend of backends) {
        new openstack.loadbalancer.Member(
          backend.name,
          {
            name: backend.name,
            poolId: this.pool.id,
            address: backend.address,
            protocolPort: API_PORT,
            subnetId: this.args.subnetId,
          },
          { parent: this },
        );
      }
      return;
    }
    if (backends.length !== 1)
      throw new Error(`a floating-IP API endpoint serves exactly one node, got ${backends.length}`);
    new openstack.networking.FloatingIpAssociate(
      backends[0].name,
      { floatingIp: this.floatingIp.address, portId: backends[0].port.id },
      { parent: this, dependsOn: this.args.routerReady },
    );
  }
}
