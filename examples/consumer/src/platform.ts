/** The platform as this project sees it: typed outputs of its stack, read through a StackReference. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformOutputs } from "../../../components/platform/contract";

/** The output-contract version this consumer is written against. */
export const SUPPORTED_CONTRACT_VERSION = 1;

/** One output of the platform stack, typed by the contract; fails the deployment if it is missing. */
export function platformOutput<K extends keyof PlatformOutputs>(
  ref: pulumi.StackReference,
  key: K,
): pulumi.Output<PlatformOutputs[K]> {
  return ref.requireOutput(key) as pulumi.Output<PlatformOutputs[K]>;
}

export interface Platform {
  readonly clusterName: pulumi.Output<string>;
  /** Secret: only ever handed to a Provider or a command's environment. */
  readonly kubeconfig: pulumi.Output<string>;
  /** The injection label, available only once the contract version is one this code understands. */
  readonly injectionLabel: pulumi.Output<Readonly<Record<string, string>>>;
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
  };
}
