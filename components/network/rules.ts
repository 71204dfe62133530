/**
 * The security-group layout as data: which port is open, to whom, and why. Pure, so it is tested
 * without the engine and the component only turns each spec into a SecGroupRule.
 *
 * Least privilege by remote group: node-to-node traffic is allowed from the control-plane and worker
 * groups, never from the world; the API and SSH only from adminCidrs. Traffic between pods,
 * including the API server's calls to istiod's webhook (15017) and proxies' xDS (15012), travels
 * inside Calico's VXLAN tunnel, so Neutron only ever sees it as 4789/udp between node groups.
 */
import { cidrToken } from "../names";

export const SECURITY_GROUP_ROLES = ["controlPlane", "worker", "apiLoadBalancer"] as const;
export type SecurityGroupRole = (typeof SECURITY_GROUP_ROLES)[number];

/**
 * Where traffic comes from: a node group, a CIDR, or the router's gateway address. Nodes reach the
 * API through its floating IP; a Neutron router SNATs such hairpinned traffic (DNAT'ed, not entering
 * through its external port) to its gateway address (neutron/agent/l3/router_info.py,
 * external_gateway_nat_fip_rules), so the API must admit that address: cluster-api-provider-openstack
 * adds the router's external IPs to the API's allowed CIDRs for the same reason
 * (getCanonicalAllowedCIDRs). The address is known only once the router exists: the component fills it in.
 */
export type RuleSource =
  | { readonly group: SecurityGroupRole }
  | { readonly cidr: string }
  | { readonly routerGateway: true };

export interface RuleSpec {
  /** Stable within its group: part of the rule's logical name. */
  readonly id: string;
  readonly description: string;
  readonly protocol: "tcp" | "udp" | "icmp";
  readonly portMin?: number;
  readonly portMax?: number;
  readonly source: RuleSource;
}

export interface RuleLayoutInput {
  readonly nodeCidr: string;
  readonly adminCidrs: readonly string[];
  /** The API is served by an Octavia load balancer (HA) rather than a floating IP on the only control-plane node. */
  readonly apiBehindLoadBalancer: boolean;
  /** SSH is opened (to adminCidrs only) when a keypair is configured; the bootstrap itself needs none. */
  readonly sshEnabled: boolean;
  /**
   * Octavia's provider. amphora filters sources itself (allowed_cidrs) and proxies from its own port in
   * the node subnet; ovn supports no allowed_cidrs and delivers the client's own address to the members
   * (cloud-provider-openstack's and CAPO's IsOctaviaFeatureSupported: no VIP ACL for ovn), so the
   * nodes' groups must filter; none: no load balancer at all.
   */
  readonly loadBalancerProvider: "amphora" | "ovn" | "none";
  /** The ingress gateway's fixed NodePorts and who may reach them, where no amphora stands in front (ovn, none). */
  readonly gatewayNodePorts?: { readonly ports: readonly number[]; readonly sources: readonly string[] };
}

const NODE_GROUPS: readonly SecurityGroupRole[] = ["controlPlane", "worker"];

function sourceToken(source: RuleSource): string {
  if ("routerGateway" in source) return "router-gateway";
  return "group" in source ? source.group.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : cidrToken(source.cidr);
}

/** The API port from the router's gateway address: the nodes' own joins and calls through the floating IP. */
const apiFromRouterGateway = (): RuleSpec =>
  rule(
    "tcp",
    [6443, 6443],
    { routerGateway: true },
    "Kubernetes API from the nodes through the floating IP (the router SNATs them to its gateway address)",
  );

function rule(
  protocol: RuleSpec["protocol"],
  ports: readonly [number, number] | undefined,
  source: RuleSource,
  description: string,
): RuleSpec {
  const portToken = ports === undefined ? "all" : ports[0] === ports[1] ? `${ports[0]}` : `${ports[0]}-${ports[1]}`;
  return {
    id: `${protocol}-${portToken}-from-${sourceToken(source)}`,
    description,
    protocol,
    ...(ports ? { portMin: ports[0], portMax: ports[1] } : {}),
    source,
  };
}

const fromNodeGroups = (
  protocol: RuleSpec["protocol"],
  ports: readonly [number, number],
  description: string,
): RuleSpec[] => NODE_GROUPS.map((group) => rule(protocol, ports, { group }, description));

/** Rules both node roles share: kubelet, the CNI, path-MTU discovery, break-glass SSH. */
function commonNodeRules(input: RuleLayoutInput): RuleSpec[] {
  return [
    ...fromNodeGroups("tcp", [10250, 10250], "kubelet API: API server logs/exec, metrics scraping"),
    ...fromNodeGroups("udp", [4789, 4789], "Calico VXLAN: all pod-to-pod traffic between nodes"),
    ...fromNodeGroups("tcp", [5473, 5473], "Calico Typha: calico-node watches the datastore through Typha"),
    rule("icmp", undefined, { cidr: input.nodeCidr }, "ICMP inside the node subnet: path-MTU discovery, diagnostics"),
    ...(input.sshEnabled
      ? input.adminCidrs.map((cidr) => rule("tcp", [22, 22], { cidr }, "break-glass SSH from an admin CIDR"))
      : []),
  ];
}

/** Who reaches the control-plane nodes' 6443 besides the nodes themselves. */
function apiClientRules(input: RuleLayoutInput): RuleSpec[] {
  if (input.apiBehindLoadBalancer && input.loadBalancerProvider === "amphora") {
    // Octavia's amphorae proxy the API from their own port in the node subnet: not a member of any of our groups.
    return [
      rule(
        "tcp",
        [6443, 6443],
        { cidr: input.nodeCidr },
        "Kubernetes API from the API load balancer (amphora in the node subnet)",
      ),
    ];
  }
  if (input.apiBehindLoadBalancer) {
    // OVN: the listener cannot filter and the client's address reaches the node, so the node's group filters.
    return [
      rule(
        "tcp",
        [6443, 6443],
        { cidr: input.nodeCidr },
        "Kubernetes API from the OVN load balancer's health checks (node subnet)",
      ),
      ...input.adminCidrs.map((cidr) =>
        rule(
          "tcp",
          [6443, 6443],
          { cidr },
          "Kubernetes API from an admin CIDR (OVN load balancer: client addresses as they are)",
        ),
      ),
      apiFromRouterGateway(),
    ];
  }
  return [
    ...input.adminCidrs.map((cidr) =>
      rule("tcp", [6443, 6443], { cidr }, "Kubernetes API from an admin CIDR (floating IP)"),
    ),
    apiFromRouterGateway(),
  ];
}

function controlPlaneRules(input: RuleLayoutInput): RuleSpec[] {
  const apiClients = apiClientRules(input);
  return [
    ...fromNodeGroups("tcp", [6443, 6443], "Kubernetes API from the nodes (kubelets, in-cluster clients)"),
    ...apiClients,
    rule("tcp", [2379, 2380], { group: "controlPlane" }, "etcd client and peer traffic between control-plane nodes"),
    ...commonNodeRules(input),
  ];
}

function workerRules(input: RuleLayoutInput): RuleSpec[] {
  return [
    // Octavia load balancers made by the cloud-controller-manager reach Service NodePorts from the node subnet.
    rule(
      "tcp",
      [30000, 32767],
      { cidr: input.nodeCidr },
      "Service NodePorts from Octavia load balancers (ingress gateway)",
    ),
    rule("udp", [30000, 32767], { cidr: input.nodeCidr }, "UDP Service NodePorts from Octavia load balancers"),
    ...gatewayNodePortRules(input),
    ...commonNodeRules(input),
  ];
}

/**
 * Without an amphora in front, clients reach the ingress gateway's NodePorts with their own
 * addresses: through OVN's load balancer, or a worker's floating IP when there is no Octavia. Only
 * the gateway's fixed ports open, to ingressGatewaySourceRanges (everyone when empty, as a public
 * load balancer would be). Not cloud-provider-openstack's manage-security-groups: the group it adds to
 * the member ports would be stripped by `pulumi up --refresh`, since the program owns the node ports.
 */
function gatewayNodePortRules(input: RuleLayoutInput): RuleSpec[] {
  if (!input.gatewayNodePorts || input.loadBalancerProvider === "amphora") return [];
  const sources = input.gatewayNodePorts.sources.length > 0 ? input.gatewayNodePorts.sources : ["0.0.0.0/0"];
  return input.gatewayNodePorts.ports.flatMap((port) =>
    sources.map((cidr) =>
      rule("tcp", [port, port], { cidr }, "ingress gateway NodePort: clients' own addresses (no amphora in front)"),
    ),
  );
}

function apiLoadBalancerRules(input: RuleLayoutInput): RuleSpec[] {
  return [
    ...input.adminCidrs.map((cidr) => rule("tcp", [6443, 6443], { cidr }, "Kubernetes API from an admin CIDR")),
    rule("tcp", [6443, 6443], { cidr: input.nodeCidr }, "Kubernetes API from the nodes through the endpoint"),
    apiFromRouterGateway(),
  ];
}

export function securityGroupRules(input: RuleLayoutInput): Record<SecurityGroupRole, RuleSpec[]> {
  return {
    controlPlane: controlPlaneRules(input),
    worker: workerRules(input),
    // The VIP's group filters for amphora only: OVN's load balancer passes clients to the nodes' groups.
    apiLoadBalancer:
      input.apiBehindLoadBalancer && input.loadBalancerProvider === "amphora" ? apiLoadBalancerRules(input) : [],
  };
}
