/**
 * The stack outputs as a consumer sees them through a StackReference: plain values, no Outputs.
 * Types only (no imports), so another project can import or copy this file without the platform's
 * dependencies. The reviewed, machine-checked description of the same contract is
 * tests/fixtures/output-contract.json (see README: "changing the contract"); the compile-time check
 * in tests/outputs-contract.test.ts keeps this interface and `stackOutputs()` in step.
 */

/** Ids of the per-role security groups. */
export interface PlatformSecurityGroupIds {
  readonly controlPlane: string;
  readonly worker: string;
  /** Null when the API is served on a floating IP (single control-plane node). */
  readonly apiLoadBalancer: string | null;
}

export interface PlatformNetwork {
  readonly networkId: string;
  readonly subnetId: string;
  /** Null in `networkMode: existing` without `existingRouterId`. */
  readonly routerId: string | null;
  readonly nodeCidr: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly externalNetworkId: string;
  readonly securityGroupIds: PlatformSecurityGroupIds;
}

export interface PlatformOutputs {
  /** Version of the output contract; bumped on a breaking change. */
  readonly contractVersion: number;
  /** dev, staging or prod. */
  readonly environment: string;
  readonly clusterName: string;
  readonly network: PlatformNetwork;
  /**
   * Admin kubeconfig of the cluster, a Pulumi secret. Added by the cluster layer (pending in the
   * contract file until then).
   */
  readonly kubeconfig: string;
  /**
   * The label a namespace carries to get sidecars from the mesh's stable revision tag, as a label map,
   * e.g. `{ "istio.io/rev": "prod-stable" }`. Added by the mesh layer (pending until then).
   */
  readonly injectionLabel: Readonly<Record<string, string>>;
}

/** Outputs the contract names that a layer still has to add (see `pending` in the contract file). */
export type PendingPlatformOutput = "kubeconfig" | "injectionLabel";
