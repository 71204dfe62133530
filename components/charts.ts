/**
 * Helm charts: where a chart comes from (the pin in lib/versions.ts, or a per-stack mirror from
 * `chartRepositories`) and the one way the program installs one (`chartRelease`).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PinnedChart } from "../lib/versions";

/** Per-stack overrides: chart name → an HTTP(S) repository URL or an oci:// registry path. */
export type ChartRepositoryOverrides = Readonly<Record<string, string>>;

export interface ResolvedChart {
  readonly chart: string;
  readonly version: string;
  readonly repositoryOpts?: k8s.types.input.helm.v3.RepositoryOpts;
}

/** helm.v3.Release takes an OCI chart as the full reference in `chart`, an HTTP one as name + repositoryOpts.repo. */
export function resolveChart(pinned: PinnedChart, overrides: ChartRepositoryOverrides = {}): ResolvedChart {
  const repository = overrides[pinned.chart] ?? pinned.repository;
  if (repository.startsWith("oci://")) {
    return { chart: `${repository.replace(/\/+$/, "")}/${pinned.chart}`, version: pinned.version };
  }
  return { chart: pinned.chart, version: pinned.version, repositoryOpts: { repo: repository } };
}

/**
 * How every release behaves when it fails, the same for all charts: Helm waits until the release's
 * workloads are ready (and LoadBalancer Services have an address); a failed install or upgrade is
 * rolled back (`atomic`) and what the failed attempt created is removed (`cleanupOnFail`), so the
 * next `pulumi up` starts from the last good release instead of a half-applied one. 15 minutes
 * covers the slowest first install seen on a cloud (image pulls on fresh nodes, an Octavia load
 * balancer for the gateway).
 */
export const RELEASE_FAILURE_POLICY = { atomic: true, cleanupOnFail: true, timeout: 900 } as const;

export interface ChartReleaseArgs {
  /** Helm's release name (also what the chart names its objects after). */
  readonly releaseName: string;
  readonly chart: PinnedChart;
  readonly namespace: string;
  /** Let Helm create the namespace (for namespaces no other resource of the program owns). */
  readonly createNamespace?: boolean;
  readonly values: pulumi.Input<object>;
  readonly chartRepositories: ChartRepositoryOverrides;
}

/** A pinned chart installed with the project's release policy, its source resolved per stack. */
export function chartRelease(
  logicalName: string,
  args: ChartReleaseArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    logicalName,
    {
      name: args.releaseName,
      namespace: args.namespace,
      ...(args.createNamespace !== undefined ? { createNamespace: args.createNamespace } : {}),
      ...resolveChart(args.chart, args.chartRepositories),
      values: args.values as pulumi.Input<Record<string, pulumi.Input<unknown>>>,
      ...RELEASE_FAILURE_POLICY,
    },
    opts,
  );
}

/**
 * A pinned chart whose objects the Kubernetes provider applies itself, server-side, with no Helm
 * release record (helm.v4.Chart renders the chart like `helm template`). For charts too large for
 * one: Helm keeps every release in a Secret, limited to 1 MiB, and Calico's CRD chart makes one of
 * about 951 KB (../shared/charts/README.md); Calico asks for its CRDs to be created or applied
 * server-side, never with client-side apply (the last-applied annotation cannot hold them).
 */
export function chartObjects(
  logicalName: string,
  args: Omit<ChartReleaseArgs, "releaseName" | "createNamespace">,
  opts: pulumi.ComponentResourceOptions,
): k8s.helm.v4.Chart {
  return new k8s.helm.v4.Chart(
    logicalName,
    {
      namespace: args.namespace,
      ...resolveChart(args.chart, args.chartRepositories),
      values: args.values as pulumi.Input<Record<string, pulumi.Input<unknown>>>,
    },
    opts,
  );
}
