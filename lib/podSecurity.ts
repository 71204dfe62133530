/**
 * Pod Security Standards levels and the namespace labels that apply them (Kubernetes' Pod Security
 * Admission). The cluster-wide default the control plane enforces lives in
 * components/cluster/bootstrap/apiServerConfig.ts; every namespace the program creates says its own
 * level with these labels, so it holds on any cluster (an existing one's default may be privileged).
 */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** A namespace's labels: `enforce` as given, audit and warn at restricted (the goal), latest versions. */
export function podSecurityLabels(enforce: PodSecurityLevel): Record<string, string> {
  return {
    [POD_SECURITY_ENFORCE_LABEL]: enforce,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
  };
}
