/**
 * Who may reach what, as pure data the mesh applies, holding in both data-plane modes.
 *
 * istio-system: its workloads (istiod, Prometheus, Grafana, Kiali, Jaeger) run without a sidecar and
 * outside the ambient mesh, and an AuthorizationPolicy is enforced by the destination's proxy (the
 * sidecar, or ztunnel in ambient): one there would enforce nothing. Worse, istio-system is the mesh's
 * root namespace, where a policy applies to every namespace (with a selector, to matching workloads
 * anywhere). So istio-system is guarded by Kubernetes NetworkPolicies, which Calico enforces for
 * every pod whatever the mode: other namespaces reach only what the mesh needs (istiod's xDS and CA
 * on 15012, its webhooks on 15017, the trace collector's OTLP ports) and what is published through
 * the ingress gateway (Grafana); everything else (istiod's plaintext xDS 15010 and debug ports,
 * Prometheus, the Jaeger UI) stays within the namespace. Kiali's chart brings its own NetworkPolicy
 * (20001 and its metrics, behind Kiali's login). `kubectl port-forward` enters the pod's network
 * namespace and is not affected; nor are kubelet probes (traffic from the pod's node is always
 * allowed).
 *
 * Application namespaces: an AuthorizationPolicy per namespace that admits requests from mesh
 * workloads of the same namespace and of the ingress gateway's only (L4 attributes: the source's
 * namespace, from its mTLS identity), so ztunnel enforces it in ambient and the sidecar in sidecar
 * mode. Other cross-namespace calls need an ALLOW policy of the team's own.
 */

export type Port = number;

interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
}

interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
}

export interface NetworkPolicy {
  readonly apiVersion: "networking.k8s.io/v1";
  readonly kind: "NetworkPolicy";
  readonly metadata: { readonly name: string; readonly namespace: string };
  // Mutable arrays: the Kubernetes provider's input types take them as they are.
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes: ["Ingress"];
    readonly ingress: { from?: NetworkPolicyPeer[]; ports?: { protocol: "TCP"; port: Port }[] }[];
  };
}

export interface AuthorizationPolicy {
  readonly apiVersion: "security.istio.io/v1";
  readonly kind: "AuthorizationPolicy";
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly action: "ALLOW";
    readonly rules: readonly { readonly from: readonly { readonly source: { readonly namespaces: string[] } }[] }[];
  };
}

/** A way into a namespace: to pods with these labels, on these ports, from anywhere or from namespaces. */
export interface AccessRule {
  readonly name: string;
  readonly pods: Readonly<Record<string, string>>;
  readonly ports: readonly Port[];
  /** Undefined: from anywhere (pods of any namespace, and the nodes: e.g. the API server's webhook calls). */
  readonly fromNamespaces?: readonly string[];
}

const NAMESPACE_NAME = "kubernetes.io/metadata.name";

/** Ingress to every pod of the namespace from the namespace itself only; AccessRules open the rest. */
export function namespaceIsolation(namespace: string): NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "same-namespace-only", namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
  };
}

export function accessPolicy(namespace: string, rule: AccessRule): NetworkPolicy {
  const ports = rule.ports.map((port) => ({ protocol: "TCP" as const, port }));
  const from = rule.fromNamespaces?.map((ns) => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: ns } } }));
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: rule.name, namespace },
    spec: {
      podSelector: { matchLabels: { ...rule.pods } },
      policyTypes: ["Ingress"],
      ingress: [{ ...(from ? { from } : {}), ports }],
    },
  };
}

/** istiod: xDS and certificates over mTLS (15012) and the admission webhooks (15017) for everyone. */
export const ISTIOD_ACCESS: AccessRule = { name: "istiod-from-mesh", pods: { app: "istiod" }, ports: [15012, 15017] };

/** An application namespace admits mesh workloads of its own namespace and of the gateways'. */
export function namespaceIsolationAuthorization(
  namespace: string,
  gatewayNamespaces: readonly string[],
): AuthorizationPolicy {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "same-namespace-and-gateways", namespace },
    spec: {
      action: "ALLOW",
      rules: [{ from: [{ source: { namespaces: [...new Set([namespace, ...gatewayNamespaces])] } }] }],
    },
  };
}
