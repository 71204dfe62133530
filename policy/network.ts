/**
 * Security groups never open SSH (22) or the Kubernetes API (6443) to the world. Kubespray and RKE2's
 * Terraform modules do by default; this program does not, and the pack keeps it that way for any
 * rule, whoever writes it. A Neutron rule with neither remoteIpPrefix nor remoteGroupId admits every
 * address, so it counts as world-open too.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Props, text } from "./props";

export const SEC_GROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule";
export const ADMIN_PORTS = [22, 6443] as const;
const WORLD = new Set(["0.0.0.0/0", "::/0", "::0/0"]);

/** Which admin ports a rule opens to the world: none when it is egress, scoped, or another protocol. */
export function worldOpenAdminPorts(props: Props): number[] {
  if ((text(props.direction) ?? "ingress") !== "ingress") return [];
  const prefix = text(props.remoteIpPrefix);
  const group = text(props.remoteGroupId);
  const worldOpen = prefix !== undefined && prefix !== "" ? WORLD.has(prefix.trim()) : !group;
  if (!worldOpen) return [];
  const protocol = (text(props.protocol) ?? "").toLowerCase();
  if (!["", "any", "tcp", "6"].includes(protocol)) return [];
  const min = typeof props.portRangeMin === "number" && props.portRangeMin > 0 ? props.portRangeMin : 1;
  const max = typeof props.portRangeMax === "number" && props.portRangeMax > 0 ? props.portRangeMax : 65535;
  return ADMIN_PORTS.filter((port) => port >= min && port <= max);
}

export const noWorldOpenAdminPorts: ResourceValidationPolicy = {
  name: "no-world-open-admin-ports",
  description: "No security group rule opens SSH (22) or the Kubernetes API (6443) to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Open the port to your office, VPN or bastion CIDRs (config adminCidrs), or to a remote security group.",
  validateResource: (args, reportViolation) => {
    if (args.type !== SEC_GROUP_RULE) return;
    const ports = worldOpenAdminPorts(args.props);
    if (ports.length > 0) {
      const from = text(args.props.remoteIpPrefix) || "any address (no remoteIpPrefix nor remoteGroupId)";
      reportViolation(`opens ${ports.map((p) => `${p}/tcp`).join(" and ")} to ${from}`);
    }
  },
};
