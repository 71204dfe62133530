/**
 * Which of Prometheus's scrape jobs would keep a discovered target: the `keep`/`drop` steps of each
 * job's relabel_configs evaluated as Prometheus does (source labels joined by the separator, the
 * regex anchored at both ends), after the `replace`/`labelmap` steps only in so far as they feed a
 * later keep/drop (none of the chart's or ours do). Enough to count how many jobs scrape one target.
 */
export interface RelabelConfig {
  readonly source_labels?: readonly string[];
  readonly separator?: string;
  readonly regex?: string;
  readonly action?: string;
}

export interface ScrapeJob {
  readonly job_name: string;
  readonly kubernetes_sd_configs?: readonly { readonly role: string }[];
  readonly relabel_configs?: readonly RelabelConfig[];
}

/** A target as Kubernetes service discovery presents it: its role and its __meta_* labels. */
export interface DiscoveredTarget {
  readonly role: "pod" | "endpoints" | "endpointslice" | "service" | "node";
  readonly labels: Readonly<Record<string, string>>;
}

/** Kubernetes SD exposes annotation and label names with every character outside [a-zA-Z0-9_] as `_`. */
export const sdName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

export function keeps(job: ScrapeJob, target: DiscoveredTarget): boolean {
  const roles = (job.kubernetes_sd_configs ?? []).map((c) => c.role);
  if (!roles.includes(target.role)) return false;
  for (const step of job.relabel_configs ?? []) {
    const action = step.action ?? "replace";
    if (action !== "keep" && action !== "drop") continue;
    const value = (step.source_labels ?? []).map((l) => target.labels[l] ?? "").join(step.separator ?? ";");
    const matched = new RegExp(`^(?:${step.regex ?? "(.*)"})$`).test(value);
    if (action === "keep" && !matched) return false;
    if (action === "drop" && matched) return false;
  }
  return true;
}
