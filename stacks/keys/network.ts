import { z } from "zod";
import { key } from "../spec";
import { cidr, ipv4, nonEmptyString, openstackUuid } from "../types";

/** Octavia providers this program knows (cloud-provider-openstack tests amphora and ovn), or none at all. */
export const LOAD_BALANCER_PROVIDERS = ["amphora", "ovn", "none"] as const;
export type LoadBalancerProvider = (typeof LOAD_BALANCER_PROVIDERS)[number];

/** The MTU of a network the program creates, unless networkMtu says otherwise: Neutron's usual for VXLAN tenant networks. */
export const DEFAULT_NETWORK_MTU = 1450;

export const networkKeys = {
  networkMode: key({
    type: "string",
    description:
      "create: the program creates network, subnet and router. existing: bring your own network and subnet (and router) by id.",
    schema: z.enum(["create", "existing"]),
    default: "create",
  }),
  externalNetwork: key({
    type: "string",
    description:
      "External (provider) network, by name or id: the router's gateway and the pool of every floating IP (API endpoint, load balancers).",
    schema: nonEmptyString,
    default: "public",
  }),
  nodeCidr: key({
    type: "string",
    description: "CIDR of the node subnet (created, or the existing subnet's CIDR in existing mode).",
    schema: cidr,
    default: "10.20.0.0/22",
  }),
  networkMtu: key({
    type: "integer",
    description:
      "create mode: MTU of the node network (1280-9000); tenant VXLAN networks are usually 1450. Refused in existing mode, where the network's own MTU is read from Neutron. The CNI subtracts its own overhead from it.",
    schema: z.int().min(1280, "must be at least 1280 (IPv6 minimum)").max(9000, "must be at most 9000 (jumbo frames)"),
    optional: true,
    defaultText: `${DEFAULT_NETWORK_MTU} in create mode`,
  }),
  dnsNameservers: key({
    type: "array",
    description: "DNS servers handed out by the subnet's DHCP. Empty: the cloud's default resolver.",
    schema: z.array(ipv4).max(5, "at most 5 nameservers"),
    default: [],
  }),
  allocationPoolStart: key({
    type: "string",
    description:
      "First address DHCP may hand out. Default: the 11th address of nodeCidr, so the first ten stay free for fixed addresses.",
    schema: ipv4,
    optional: true,
  }),
  allocationPoolEnd: key({
    type: "string",
    description: "Last address DHCP may hand out. Default: the last usable address of nodeCidr.",
    schema: ipv4,
    optional: true,
  }),
  existingNetworkId: key({
    type: "string",
    description: "existing mode: id of the network the nodes join.",
    schema: openstackUuid,
    optional: true,
  }),
  existingSubnetId: key({
    type: "string",
    description: "existing mode: id of the subnet (inside existingNetworkId) the nodes get their addresses from.",
    schema: openstackUuid,
    optional: true,
  }),
  existingRouterId: key({
    type: "string",
    description:
      "existing mode: id of the router connecting the subnet to externalNetwork (floating IPs need it; its gateway address is admitted to the API, where nodes arrive through the floating IP).",
    schema: openstackUuid,
    optional: true,
  }),
  podCidr: key({
    type: "string",
    description: "CIDR of pod addresses (the CNI's pool); must not overlap nodeCidr or serviceCidr.",
    schema: cidr,
    default: "10.244.0.0/16",
  }),
  serviceCidr: key({
    type: "string",
    description: "CIDR of Kubernetes Service cluster IPs; must not overlap nodeCidr or podCidr.",
    schema: cidr,
    default: "10.96.0.0/12",
  }),
  adminCidrs: key({
    type: "array",
    description:
      "Who may reach the Kubernetes API (6443) and SSH (22, only when sshPublicKey is set): your office, VPN or bastion CIDRs. Required: there is no safe default.",
    schema: z.array(cidr).min(1, "list at least one CIDR (your office, VPN or bastion)"),
  }),
  loadBalancerProvider: key({
    type: "string",
    description:
      "The cloud's load-balancer service (Octavia provider): amphora; ovn (no allowed_cidrs and client addresses reach the nodes, so sources are filtered by the security groups); none (no Octavia: a single control-plane node, the ingress gateway on fixed NodePorts of the workers).",
    schema: z.enum(LOAD_BALANCER_PROVIDERS),
    default: "amphora",
  }),
  allowWorldOpenAdminCidr: key({
    type: "boolean",
    description: "Allow 0.0.0.0/0 in adminCidrs outside dev. Off: staging and prod refuse a world-open API and SSH.",
    schema: z.boolean(),
    default: false,
  }),
};
