/**
 * Helm releases: every chart pinned to an exact version, and Kiali never anonymous outside dev.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  type Environment,
  type EnvironmentConfig,
  environmentConfigSchema,
  environmentOf,
  relaxed,
} from "./environment";
import { at, type Props, text } from "./props";

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** An exact SemVer 2 version (a leading v allowed, as some charts tag): no ranges, wildcards or tags. */
const EXACT_VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Why a release's version is not an exact pin, or undefined when it is. */
export function unpinnedReason(version: unknown): string | undefined {
  const value = text(version)?.trim();
  if (!value) return "has no version: helm would install whatever the repository serves as latest";
  if (!EXACT_VERSION.test(value))
    return `has version ${JSON.stringify(value)}, a range or tag rather than an exact version`;
  return undefined;
}

export const helmReleasePinned: ResourceValidationPolicy = {
  name: "helm-release-version-pinned",
  description: "Every Helm release pins its chart to an exact version (no ranges, no empty version).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Pin the chart in lib/versions.ts (e.g. 1.31.1, not ^1.31 or 1.x).",
  validateResource: (args, reportViolation) => {
    if (args.type !== HELM_RELEASE) return;
    const reason = unpinnedReason(args.props.version);
    if (reason) reportViolation(`chart ${JSON.stringify(text(args.props.chart) ?? "?")} ${reason}`);
  },
};

/** The chart's own name, whether given as a name, a repo/name or an oci:// reference. */
export function chartName(props: Props): string {
  const chart = text(props.chart) ?? "";
  const last = chart.split("/").pop() ?? "";
  return last.split(/[:@]/)[0];
}

/** Kiali's auth strategy as the release sets it: kiali-server's values.auth, or the operator's CR values. */
export function kialiAuthStrategy(props: Props): string | undefined {
  const values = props.values;
  return text(at(values, "auth.strategy")) ?? text(at(values, "cr.spec.auth.strategy"));
}

export function kialiAnonymousViolation(props: Props, environment: Environment | "unknown"): string | undefined {
  if (!chartName(props).startsWith("kiali")) return undefined;
  if (relaxed(environment)) return undefined;
  const strategy = kialiAuthStrategy(props);
  if (strategy?.toLowerCase() === "anonymous") {
    return `Kiali (${chartName(props)}) uses auth.strategy anonymous in a ${environment} stack: anyone who reaches it can see and change mesh config`;
  }
  return undefined;
}

export const kialiNotAnonymous: ResourceValidationPolicy = {
  name: "kiali-not-anonymous",
  description: "Kiali requires login (auth.strategy token, openid, header) everywhere but dev.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  remediationSteps: "Leave auth.strategy unset (token) or use openid; anonymous only in dev stacks.",
  validateResource: (args, reportViolation) => {
    if (args.type !== HELM_RELEASE) return;
    const violation = kialiAnonymousViolation(args.props, environmentOf(args.urn, args.getConfig<EnvironmentConfig>()));
    if (violation) reportViolation(violation);
  },
};
