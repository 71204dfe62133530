/** The platform as this project sees it: typed outputs of its stack, read through a StackReference. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformGateway, PlatformMesh, PlatformOutputs } from "../../../components/platform/contract";

/** The output-contract version this consumer is written against. */
export const SUPPORTED_CONTRACT_VERSION = 1;

/** One output of the platform stack, typed by the contract; fails the deployment if it is missing. */
export function platformOutput<K extends keyof PlatformOutputs>(
  ref: pulumi.StackReference,
  key: K,
): pulumi.Output<PlatformOutputs[K]> {
  return ref.requireOutput(key) as pulumi.Output<PlatformOutputs[K]>;
}

/** What the consumer builds depends on the mesh's shape; plain values, read once the platform's outputs are known. */
export interface MeshShape {
  readonly dataplaneMode: PlatformMesh["dataplaneMode"];
  /** The tag this project's own waypoint carries (istio.io/rev), so it follows the platform's canaries. */
  readonly revisionTag: string;
  /** The Gateway API ingress Gateway to attach an HTTPRoute to; null with Istio's classic gateway. */
  readonly gateway: PlatformGateway | null;
}

/**
 * A platform on contract v1 that predates the data plane outputs is a sidecar mesh with the classic
 * gateway: the fields were added, not changed, so an older platform stack still reads right.
 */
export function meshShapeOf(
  mesh: Partial<PlatformMesh> & Pick<PlatformMesh, "tags">,
  injectionTag?: string,
): MeshShape {
  return {
    dataplaneMode: mesh.dataplaneMode ?? "sidecar",
    revisionTag: mesh.revisionTag ?? injectionTag ?? "default",
    gateway: mesh.gateway ?? null,
  };
}

export interface Platform {
  readonly clusterName: pulumi.Output<string>;
  /** Secret: only ever handed to a Provider or a command's environment. */
  readonly kubeconfig: pulumi.Output<string>;
  /** The injection label, available only once the contract version is one this code understands. */
  readonly injectionLabel: pulumi.Output<Readonly<Record<string, string>>>;
  readonly mesh: Promise<MeshShape>;
}

export function checkContractVersion(version: number): void {
  if (version !== SUPPORTED_CONTRACT_VERSION) {
    throw new Error(
      `the platform stack exports output contract v${version}; this project understands v${SUPPORTED_CONTRACT_VERSION} (see the platform's docs/outputs.md: changing the contract)`,
    );
  }
}

/** A platform without a cluster (clusterMode openstack-only) exports null for the cluster's outputs. */
export function present<T>(value: T | null, output: string): T {
  if (value === null || value === undefined) {
    throw new Error(
      `the platform stack's ${output} output is null: it has no cluster or mesh (clusterMode openstack-only?)`,
    );
  }
  return value;
}

export function readPlatform(stack: string, opts?: pulumi.CustomResourceOptions): Platform {
  const ref = new pulumi.StackReference(stack, { name: stack }, opts);
  const version = platformOutput(ref, "contractVersion");
  return {
    clusterName: platformOutput(ref, "clusterName"),
    kubeconfig: pulumi.secret(platformOutput(ref, "kubeconfig").apply((k: string | null) => present(k, "kubeconfig"))),
    injectionLabel: pulumi.all([version, platformOutput(ref, "injectionLabel")]).apply(([v, label]) => {
      checkContractVersion(v);
      return present(label, "injectionLabel");
    }),
    mesh: Promise.all([ref.requireOutputValue("contractVersion"), ref.requireOutputValue("mesh")]).then(
      ([v, mesh]: [number, PlatformOutputs["mesh"]]) => {
        checkContractVersion(v);
        return meshShapeOf(present(mesh, "mesh"));
      },
    ),
  };
}
