/**
 * Every version this project pins, in one place.
 *
 * Upgrade path: change a version here, run `npm run plan -- --stack dev` and `npm test`, read the
 * plan diff (rendered user data and Helm values land in plan/<stack>/), then roll it out stack by
 * stack (dev → staging → prod). Kubernetes node upgrades are a deliberate node roll (see README);
 * Istio upgrades are a canary: add a revision, move the tags, remove the old revision.
 */

/** Kubernetes as the nodes install it (kubeadm, kubelet, kubectl) and as the e2e harness builds it. */
export const kubernetes = {
  version: "1.33.13",
  /** pkgs.k8s.io serves one apt repository per minor version. */
  aptRepositoryMinor: "v1.33",
} as const;

/** Tool versions of the real-engine harness (e2e/). Built from the Go module proxy where no binary exists. */
export const toolchain = {
  pulumiCli: "3.274.1",
  /** Last Node.js language host published as a tagged module the proxy serves (see shared/E2E-FACTS.md). */
  pulumiLanguageNodejs: "3.68.0",
  /** The Terraform provider bridged into pulumi-resource-openstack, and the SDK version it is registered as. */
  terraformProviderOpenstack: "3.4.0",
  pulumiTerraformBridge: "3.120.0",
  pulumiOpenstackSdk: "3.15.2",
  helm: "3.22.0",
  kwok: "0.7.0",
} as const;

/**
 * A Helm chart pinned to an exact version, with its default source. A stack can point any chart at
 * a mirror (config key `chartRepositories`), but never float its version.
 */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
  /** An HTTP(S) chart repository, or an oci:// registry path that holds the chart. */
  readonly repository: string;
}

/** Cluster add-ons installed by the cluster layer (CNI, OpenStack cloud provider, Cinder CSI). */
export const clusterCharts = {
  // Filled by the cluster layer.
} as const satisfies Record<string, PinnedChart>;
