/**
 * Where a chart comes from: the pinned default in versions.ts, or a per-stack mirror
 * (`chartRepositories`). Turns either into helm.v3.Release arguments.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { PinnedChart } from "./versions";

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
