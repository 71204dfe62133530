/**
 * Istio's two data plane modes. A namespace is in exactly one: labelled for ambient
 * (istio.io/dataplane-mode=ambient) or for sidecar injection (istio.io/rev or istio-injection), never
 * both: Istio's injector does not look at the ambient label, so such a namespace silently gets
 * sidecars ("the sidecar mode currently takes precedence", istio.io ambient/usage/add-workloads).
 * And an ambient control plane (istiod with profile ambient) is nothing without its node agents:
 * istio-cni (redirection) and ztunnel (mTLS); without them an ambient namespace's traffic is plaintext.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { chartName, HELM_RELEASE } from "./helm";
import { at, record, text } from "./props";

const NAMESPACE = "kubernetes:core/v1:Namespace";

export function dataplaneConflict(labels: Readonly<Record<string, unknown>>): string | undefined {
  if (labels["istio.io/dataplane-mode"] !== "ambient") return undefined;
  const sidecar = ["istio.io/rev", "istio-injection"].filter(
    (key) => key in labels && !(key === "istio-injection" && labels[key] === "disabled"),
  );
  return sidecar.length > 0 ? `labelled for ambient and for sidecar injection (${sidecar.join(", ")})` : undefined;
}

export const namespaceSingleDataplaneMode: ResourceValidationPolicy = {
  name: "namespace-single-dataplane-mode",
  description: "A namespace joins the mesh in one data plane mode: ambient or sidecar injection, never both.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== NAMESPACE) return;
    const conflict = dataplaneConflict(record(at(args.props, "metadata.labels")));
    if (conflict) {
      const name = text(at(args.props, "metadata.name")) ?? "namespace";
      reportViolation(`${name} is ${conflict}: its pods get sidecars and ambient is silently off`);
    }
  },
};

export const ambientNodeAgents: StackValidationPolicy = {
  name: "ambient-node-agents",
  description: "A stack that installs istiod with the ambient profile also installs istio-cni and ztunnel.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const releases = args.resources.filter((r) => r.type === HELM_RELEASE);
    const ambient = releases.some(
      (r) => chartName(r.props) === "istiod" && text(at(r.props, "values.profile")) === "ambient",
    );
    if (!ambient) return;
    const missing = ["cni", "ztunnel"].filter((chart) => !releases.some((r) => chartName(r.props) === chart));
    if (missing.length > 0) {
      reportViolation(`istiod runs the ambient profile but the stack installs no ${missing.join(" and no ")} chart`);
    }
  },
};
