/**
 * Who may reach what in the mesh (components/mesh/access.ts): istio-system reachable from other
 * namespaces only where the mesh needs it (NetworkPolicies, enforced by Calico whatever the data
 * plane mode), application namespaces admitting only their own and the gateway's workloads (an L4
 * AuthorizationPolicy that sidecars and ztunnel both enforce). The NetworkPolicies are evaluated
 * here the way the Kubernetes API defines them; the bootstrap ring's object dry run checks that the
 * real kube-apiserver accepts them.
 */

import { type Evaluation, evaluateStack } from "./harness";
import { istioSchemaErrors } from "./istioSchema";

interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
}
interface Policy {
  metadata: { name: string; namespace: string };
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    ingress: { from?: Peer[]; ports?: { port: number }[] }[];
  };
}

const matches = (selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/**
 * Kubernetes NetworkPolicy semantics for ingress: a pod selected by no policy admits everything; a
 * selected pod admits a connection that some selecting policy's rule allows (no `from`: any source;
 * a podSelector peer alone: pods of the policy's namespace; a namespaceSelector peer: that namespace).
 */
function admits(
  policies: readonly Policy[],
  to: { namespace: string; labels: Record<string, string>; port: number },
  fromNamespace: string,
): boolean {
  const selecting = policies.filter(
    (p) => p.metadata.namespace === to.namespace && matches(p.spec.podSelector, to.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    p.spec.ingress.some((rule) => {
      const portOk = !rule.ports || rule.ports.some((r) => r.port === to.port);
      const fromOk =
        !rule.from ||
        rule.from.some((peer) =>
          peer.namespaceSelector
            ? matches(peer.namespaceSelector, { "kubernetes.io/metadata.name": fromNamespace })
            : fromNamespace === p.metadata.namespace,
        );
      return portOk && fromOk;
    }),
  );
}

const ISTIOD = { app: "istiod", "istio.io/rev": "1-31-1" };
const JAEGER = { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/component": "all-in-one" };
const GRAFANA = { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" };
const PROMETHEUS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server" };

describe.each([
  ["prod", {}],
  [
    "prod in ambient mode with kialiHost",
    { meshDataplaneMode: "ambient", kialiHost: "k.example.com", kialiTlsSecret: "k" },
  ],
  ["dev", {}],
])("the %s stack", (_name, overrides) => {
  const stack = _name.startsWith("dev") ? "dev" : "prod";
  let run: Evaluation;
  let policies: Policy[];
  beforeAll(async () => {
    run = await evaluateStack(stack, {
      ...overrides,
      meshNamespaces: { shop: stack === "dev" ? "default" : "prod-stable" },
    });
    policies = run.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs as unknown as Policy);
  });
  const into = (labels: Record<string, string>, port: number, from: string) =>
    admits(policies, { namespace: "istio-system", labels, port }, from);

  it("istio-system admits the mesh's xDS, webhooks and traces from anywhere, nothing else from other namespaces", () => {
    expect(policies.every((p) => p.metadata.namespace === "istio-system")).toBe(true);
    for (const from of ["shop", "istio-ingress", "kube-system"]) {
      expect([from, into(ISTIOD, 15012, from), into(ISTIOD, 15017, from)]).toEqual([from, true, true]);
      expect([from, into(ISTIOD, 15010, from), into(ISTIOD, 8080, from)]).toEqual([from, false, false]);
      expect([from, into(JAEGER, 4317, from), into(JAEGER, 16686, from)]).toEqual([from, true, false]);
      expect([from, into(PROMETHEUS, 9090, from)]).toEqual([from, false]);
    }
  });

  it("inside istio-system everything still reaches everything (Kiali → Prometheus, Grafana → Jaeger, scrapes)", () => {
    for (const [labels, port] of [
      [PROMETHEUS, 9090],
      [JAEGER, 16685],
      [GRAFANA, 3000],
      [ISTIOD, 15014],
    ] as const) {
      expect(into(labels, port, "istio-system")).toBe(true);
    }
  });

  it("Grafana is reachable from the ingress gateway exactly when it is published (kialiHost)", () => {
    expect(into(GRAFANA, 3000, run.config.ingressGatewayNamespace)).toBe(Boolean(run.config.kialiHost));
    expect(into(GRAFANA, 3000, "shop")).toBe(false);
  });

  it("application namespaces admit only their own and the ingress gateway's workloads outside dev (L4, both modes)", () => {
    const authz = run
      .ofType("kubernetes:security.istio.io/v1:AuthorizationPolicy")
      .map((r) => r.inputs as { metadata: { namespace: string }; spec: Record<string, unknown> });
    if (stack === "dev") {
      expect(authz).toEqual([]);
      return;
    }
    expect(authz).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ namespace: "shop" }),
        spec: {
          action: "ALLOW",
          rules: [{ from: [{ source: { namespaces: ["shop", run.config.ingressGatewayNamespace] } }] }],
        },
      }),
    ]);
    // Nothing but the source's namespace: ztunnel enforces it without a waypoint.
    expect(
      istioSchemaErrors(authz.map((a) => ({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", ...a }))),
    ).toEqual([[]]);
  });
});
