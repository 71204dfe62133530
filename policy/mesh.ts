/**
 * Mutual TLS: outside dev, no PeerAuthentication weakens mTLS (PERMISSIVE, DISABLE, UNSET, at workload
 * or port level), and a stack that installs istiod also makes STRICT the mesh-wide default (a
 * PeerAuthentication without a selector in the root namespace, istio-system).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type EnvironmentConfig, environmentConfigSchema, environmentOf, relaxed } from "./environment";
import { chartName, HELM_RELEASE } from "./helm";
import { at, type Props, record, text } from "./props";

export const PEER_AUTHENTICATION_TYPES = [
  "kubernetes:security.istio.io/v1:PeerAuthentication",
  "kubernetes:security.istio.io/v1beta1:PeerAuthentication",
];
const ROOT_NAMESPACE = "istio-system";

/** Every mTLS mode a PeerAuthentication sets that is not STRICT, with where it is set. */
export function weakMtlsModes(props: Props): string[] {
  const spec = record(props.spec);
  const weak: string[] = [];
  const mode = text(at(spec, "mtls.mode"));
  // No mtls at all inherits from the parent scope, which this policy checks separately: only an explicit weak mode counts.
  if (mode !== undefined && mode.toUpperCase() !== "STRICT") weak.push(`spec.mtls.mode ${mode}`);
  for (const [port, setting] of Object.entries(record(spec.portLevelMtls))) {
    const portMode = text(at(setting, "mode"));
    if (portMode !== undefined && portMode.toUpperCase() !== "STRICT") weak.push(`port ${port} mode ${portMode}`);
  }
  return weak;
}

export const peerAuthenticationStrict: ResourceValidationPolicy = {
  name: "peer-authentication-strict",
  description: "Outside dev, PeerAuthentications only ever require mTLS (STRICT), never PERMISSIVE or DISABLE.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  validateResource: (args, reportViolation) => {
    if (!PEER_AUTHENTICATION_TYPES.includes(args.type)) return;
    const environment = environmentOf(args.urn, args.getConfig<EnvironmentConfig>());
    if (relaxed(environment)) return;
    const weak = weakMtlsModes(args.props);
    if (weak.length > 0) reportViolation(`weakens mTLS in a ${environment} stack: ${weak.join(", ")}`);
  },
};

export interface MeshResource {
  readonly type: string;
  readonly props: Props;
}

export function isMeshWideStrict(resource: MeshResource): boolean {
  const namespace = text(at(resource.props, "metadata.namespace"));
  const spec = record(resource.props.spec);
  return (
    PEER_AUTHENTICATION_TYPES.includes(resource.type) &&
    namespace === ROOT_NAMESPACE &&
    Object.keys(record(spec.selector)).length === 0 &&
    text(at(spec, "mtls.mode"))?.toUpperCase() === "STRICT"
  );
}

export function installsIstiod(resources: readonly MeshResource[]): boolean {
  return resources.some((r) => r.type === HELM_RELEASE && chartName(r.props) === "istiod");
}

export const meshWideStrictMtls: StackValidationPolicy = {
  name: "mesh-wide-strict-mtls",
  description:
    "Outside dev, a stack that installs istiod also sets a mesh-wide STRICT PeerAuthentication in istio-system.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  validateStack: (args, reportViolation) => {
    if (!installsIstiod(args.resources)) return;
    const environment = environmentOf(args.resources[0]?.urn, args.getConfig<EnvironmentConfig>());
    if (relaxed(environment)) return;
    if (!args.resources.some(isMeshWideStrict)) {
      reportViolation(
        `istiod is installed in a ${environment} stack without a PeerAuthentication "default" in ${ROOT_NAMESPACE} with mtls.mode STRICT and no selector`,
      );
    }
  },
};
