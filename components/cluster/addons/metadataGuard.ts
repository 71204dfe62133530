/**
 * Pods never reach the cloud's metadata service. Nova serves each node's user data at
 * 169.254.169.254 to whatever comes from the node's address, and Calico SNATs pod traffic to that
 * address (natOutgoing), so without this any pod could read the join token, and on a control-plane
 * node the cluster's CA and service-account keys.
 *
 * Calico objects (crd.projectcalico.org/v1: the program runs Calico without its API server):
 * - a Tier evaluated before every other (order 100; Calico's `kube-admin` tier is 1000, `default`,
 *   where Kubernetes NetworkPolicies live, 1,000,000) whose default action is Pass: it decides
 *   nothing but what its policy denies, so NetworkPolicies keep their meaning and no policy a
 *   namespace owner writes can re-allow the address (docs.tigera.io, "Get started with policy
 *   tiers": Pass hands the packet to the next tier);
 * - a GlobalNetworkPolicy in that tier denying egress to the metadata address from every workload
 *   endpoint (pods; `projectcalico.org/namespace` is set on workload endpoints only, so host
 *   endpoints, if anyone creates them, are not affected).
 * Host-network pods have no workload endpoint: the kubelet, the cloud-controller-manager and Cinder
 * CSI's node plugin (host network, it reads the instance id from config drive or metadata) keep
 * their access; Pod Security baseline keeps every other pod off the host network.
 */

export const METADATA_ADDRESS = "169.254.169.254/32";
export const GUARD_TIER = "platform-guard";
/** Before Calico's kube-admin (1000) and default (1,000,000) tiers. */
export const GUARD_TIER_ORDER = 100;

export interface CalicoObject {
  readonly apiVersion: "crd.projectcalico.org/v1";
  readonly kind: "Tier" | "GlobalNetworkPolicy";
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown>;
}

export function metadataGuard(): [CalicoObject, CalicoObject] {
  return [
    {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "Tier",
      metadata: { name: GUARD_TIER },
      spec: { order: GUARD_TIER_ORDER, defaultAction: "Pass" },
    },
    {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "GlobalNetworkPolicy",
      // Prefixed with its tier: required by Calico before 3.30's relaxation, accepted after it.
      metadata: { name: `${GUARD_TIER}.deny-cloud-metadata` },
      spec: {
        tier: GUARD_TIER,
        order: 0,
        selector: "has(projectcalico.org/namespace)",
        types: ["Egress"],
        egress: [{ action: "Deny", destination: { nets: [METADATA_ADDRESS] } }],
      },
    },
  ];
}
