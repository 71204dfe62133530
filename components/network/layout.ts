/** Subnet layout decided before anything is created: which addresses DHCP may hand out. */
import { formatIpv4, lastAddress, nthAddress, parseCidr, parseIpv4, size } from "../../lib/cidr";

/** The first addresses after the gateway stay out of DHCP, for fixed addresses a team may add later. */
export const RESERVED_LOW_ADDRESSES = 10;

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

export function allocationPool(nodeCidr: string, override: Partial<AllocationPool> = {}): AllocationPool {
  const block = parseCidr(nodeCidr);
  if (!block) throw new Error(`invalid CIDR ${nodeCidr} reached the layout: config validation should have refused it`);
  return {
    start: override.start ?? nthAddress(block, Math.min(RESERVED_LOW_ADDRESSES + 1, size(block) - 2)),
    end: override.end ?? formatIpv4(lastAddress(block) - 1),
  };
}

/** The gateway is the first usable address, as Neutron does by default; stated so the layout is explicit. */
export function gatewayAddress(nodeCidr: string): string {
  const block = parseCidr(nodeCidr);
  if (!block) throw new Error(`invalid CIDR ${nodeCidr} reached the layout`);
  return nthAddress(block, 1);
}

/**
 * The address a router gives traffic it SNATs: the first IPv4 address of its gateway port (Neutron's
 * L3 agent installs its SNAT rules for that one only, `_add_snat_rules`). A router without one has no
 * gateway, and floating IPs behind it cannot work.
 */
export function routerGatewayAddress(
  routerId: string,
  externalFixedIps: readonly { readonly ipAddress?: string }[] | undefined,
): string {
  const ipv4 = (externalFixedIps ?? [])
    .map((ip) => ip.ipAddress ?? "")
    .find((address) => parseIpv4(address) !== undefined);
  if (ipv4 === undefined) {
    throw new Error(
      `router ${routerId} has no external IPv4 address: give it a gateway on the external network (openstack router set --external-gateway <network> ${routerId}); the API's floating IP cannot work without one`,
    );
  }
  return ipv4;
}
