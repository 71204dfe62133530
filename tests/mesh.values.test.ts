// The mesh's decisions as pure functions: revisions and tags, Helm values, config rules. No engine.

import { resolveChart } from "../components/charts";
import { planRevisions, tagService, tagWebhookConfiguration } from "../components/mesh/revisions";
import { gatewayValues, istiodValues } from "../components/mesh/values";
import { kialiValues, prometheusValues } from "../components/observability/values";
import { meshCharts } from "../lib/versions";
import { ConfigError } from "../stacks/errors";
import { parseStackConfig } from "../stacks/load";
import { rawConfig } from "./harness";

const OLD = "1.31.1";
const NEW = "1.32.0";

function refusal(stack: string, overrides: Record<string, unknown>): string {
  try {
    parseStackConfig(rawConfig(stack, overrides), stack);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`stack ${stack} accepted ${JSON.stringify(overrides)}`);
}

describe("revisions and tags", () => {
  it("names a revision after its version and resolves every tag", () => {
    const plan = planRevisions([NEW, OLD], { default: OLD, "prod-canary": NEW, "prod-stable": OLD });
    expect(plan.revisions.map((r) => r.name)).toEqual(["1-31-1", "1-32-0"]);
    expect(plan.defaultRevision.name).toBe("1-31-1");
    expect(plan.newest.version).toBe(NEW);
    expect(plan.tags.map((t) => [t.tag, t.revision.name])).toEqual([
      ["default", "1-31-1"],
      ["prod-canary", "1-32-0"],
      ["prod-stable", "1-31-1"],
    ]);
  });

  it("a tag webhook selects namespaces by istio.io/rev=<tag> and calls its revision's istiod", () => {
    const [, stable] = planRevisions([OLD], { default: OLD, "prod-stable": OLD }).tags;
    const mwc = tagWebhookConfiguration(stable);
    expect(mwc.metadata).toMatchObject({
      name: "istio-revision-tag-prod-stable",
      labels: { "istio.io/tag": "prod-stable", "istio.io/rev": "1-31-1" },
    });
    const webhooks = mwc.webhooks as { name: string; clientConfig: unknown; namespaceSelector: unknown }[];
    expect(webhooks.map((w) => w.name)).toEqual([
      "rev.namespace.sidecar-injector.istio.io",
      "rev.object.sidecar-injector.istio.io",
    ]);
    for (const w of webhooks) {
      expect(w.clientConfig).toEqual({
        service: { name: "istiod-1-31-1", namespace: "istio-system", path: "/inject", port: 443 },
      });
    }
    expect(webhooks[0].namespaceSelector).toEqual({
      matchExpressions: [
        { key: "istio.io/rev", operator: "In", values: ["prod-stable"] },
        { key: "istio-injection", operator: "DoesNotExist" },
      ],
    });
    expect(tagService(stable).spec).toMatchObject({ selector: { app: "istiod", "istio.io/rev": "1-31-1" } });
  });

  it("the default tag also serves pods that ask for injection without a revision, as the chart renders it", () => {
    const [defaultTag] = planRevisions([OLD], { default: OLD }).tags;
    expect((tagWebhookConfiguration(defaultTag).webhooks as unknown[]).length).toBe(4);
  });
});

describe("Helm values", () => {
  const tracing = { name: "jaeger", service: "jaeger.istio-system.svc.cluster.local", port: 4317 };
  const settings = {
    outboundTrafficPolicy: "REGISTRY_ONLY" as const,
    holdApplicationUntilProxyStarts: true,
    istiodMinReplicas: 2,
    tracing,
  };

  it("istiod: revision, mesh config from the stack, tracing as an extension provider", () => {
    const [revision] = planRevisions([OLD], { default: OLD }).revisions;
    const values = istiodValues(revision, settings, { mode: "sidecar", cni: false });
    expect(values).toMatchObject({ revision: "1-31-1", autoscaleMin: 2 });
    // Sidecar mode without the node agent: istiod exactly as before the data plane keys existed.
    expect(values).not.toHaveProperty("profile");
    expect(values).not.toHaveProperty("cni");
    expect(values.meshConfig).toMatchObject({
      outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
      defaultConfig: { holdApplicationUntilProxyStarts: true },
      extensionProviders: [{ name: "jaeger", opentelemetry: { service: tracing.service, port: 4317 } }],
    });
  });

  const gateway = {
    replicas: 2,
    maxReplicas: 4,
    podDisruptionBudget: true,
    resources: { requests: { cpu: "100m" }, limits: {} },
    serviceType: "LoadBalancer" as const,
    externalTrafficPolicy: "Local" as const,
    proxyProtocol: false,
    sourceRanges: [],
    annotations: { "loadbalancer.openstack.org/flavor-id": "abc" },
    tag: "default",
  };

  it("gateway on Octavia: plain by default, annotations kept, PDB and autoscaling", () => {
    const values = gatewayValues(gateway);
    expect(values.service).toEqual({
      type: "LoadBalancer",
      annotations: { "loadbalancer.openstack.org/flavor-id": "abc" },
      externalTrafficPolicy: "Local",
    });
    expect(values.podAnnotations).not.toHaveProperty("proxy.istio.io/config");
    expect(values.podDisruptionBudget).toEqual({ minAvailable: 1 });
    expect(values.autoscaling).toEqual({ enabled: true, minReplicas: 2, maxReplicas: 4 });
    expect(values.revision).toBe("default");
  });

  it("PROXY protocol is set on both ends; a fixed floating IP is requested and kept", () => {
    const values = gatewayValues({ ...gateway, proxyProtocol: true, floatingIp: "198.51.100.7" });
    // The annotations cloud-provider-openstack reads (docs/openstack-cloud-controller-manager/expose-applications-using-loadbalancer-type-service.md).
    expect(values.service.annotations).toMatchObject({
      "loadbalancer.openstack.org/proxy-protocol": "true",
      "loadbalancer.openstack.org/keep-floatingip": "true",
    });
    expect(values.service.loadBalancerIP).toBe("198.51.100.7");
    expect(JSON.parse(values.podAnnotations["proxy.istio.io/config"])).toEqual({
      gatewayTopology: { proxyProtocol: {} },
    });
  });

  it("observability: retention, Kiali auth and explicit URLs, pinned dashboards", () => {
    expect(prometheusValues({ retention: "30d", storageSize: "100Gi", alertmanager: false }).server).toMatchObject({
      retention: "30d",
      persistentVolume: { enabled: true, size: "100Gi" },
    });
    const kiali = kialiValues({ strategy: "token", viewOnly: true });
    expect(kiali.auth.strategy).toBe("token");
    expect(kiali.external_services.prometheus.url).toBe("http://prometheus-server.istio-system.svc:80");
    expect(kiali.external_services.tracing).toMatchObject({ enabled: true, provider: "jaeger" });
  });

  it("Istio's charts come from their 1.31 home, not the retired storage.googleapis.com bucket", () => {
    // Exact pins are enforced on every stack's releases by the policy pack (tests/outputs-contract.test.ts).
    for (const chart of [meshCharts.base, meshCharts.istiod, meshCharts.gateway]) {
      expect(resolveChart(chart).repositoryOpts?.repo).not.toMatch(/storage\.googleapis\.com/);
    }
  });
});

describe("mesh configuration rules", () => {
  it("a canary is three config changes, each valid", () => {
    const steps = [
      { istioRevisions: [OLD, NEW], istioRevisionTags: { default: OLD, "prod-stable": OLD, "prod-canary": NEW } },
      { istioRevisions: [OLD, NEW], istioRevisionTags: { default: NEW, "prod-stable": NEW, "prod-canary": NEW } },
      { istioRevisions: [NEW], istioRevisionTags: { default: NEW, "prod-stable": NEW } },
    ];
    for (const step of steps) expect(() => parseStackConfig(rawConfig("prod", step), "prod")).not.toThrow();
  });

  it.each([
    [
      "a tag pointing at an unlisted revision",
      "dev",
      { istioRevisionTags: { default: NEW } },
      /istioRevisionTags\.default: must be one of istioRevisions/,
    ],
    ["no default tag", "dev", { istioRevisionTags: { "prod-stable": OLD } }, /must include the tag 'default'/],
    ["three revisions", "dev", { istioRevisions: ["1.30.5", OLD, NEW] }, /at most two revisions/],
    [
      "a namespace on an unknown tag",
      "dev",
      { meshNamespaces: { shop: "canary" } },
      /meshNamespaces\.shop: must be one of istioRevisionTags/,
    ],
    [
      "PERMISSIVE mesh-wide in staging",
      "staging",
      { meshMtlsMode: "PERMISSIVE" },
      /meshMtlsMode: staging keeps mesh-wide mTLS STRICT/,
    ],
    [
      "a PERMISSIVE exception in prod",
      "prod",
      { meshPermissiveNamespaces: ["legacy"] },
      /meshPermissiveNamespaces\[0\]: plaintext exceptions are for dev/,
    ],
    [
      "anonymous Kiali in staging",
      "staging",
      { kialiAuthStrategy: "anonymous" },
      /kialiAuthStrategy: .*refused in staging/,
    ],
    [
      "one gateway replica in prod",
      "prod",
      { ingressGatewayReplicas: 1 },
      /ingressGatewayReplicas: prod needs at least 2/,
    ],
    [
      "no gateway PDB in prod",
      "prod",
      { ingressGatewayPodDisruptionBudget: false },
      /ingressGatewayPodDisruptionBudget: prod keeps/,
    ],
    ["Kiali exposed without TLS", "dev", { kialiHost: "kiali.example.com" }, /kialiTlsSecret: required when kialiHost/],
    [
      "a sampling rate above 100",
      "dev",
      { meshTraceSamplingPercent: "150" },
      /meshTraceSamplingPercent: must be between 0 and 100/,
    ],
    [
      "ambient without the istio-cni node agent",
      "dev",
      { meshDataplaneMode: "ambient", istioCni: false },
      /istioCni: meshDataplaneMode ambient needs the istio-cni node agent/,
    ],
    [
      "REGISTRY_ONLY in ambient, which ztunnel does not enforce",
      "staging",
      { meshDataplaneMode: "ambient", meshOutboundTrafficPolicy: "REGISTRY_ONLY" },
      /meshOutboundTrafficPolicy: ALLOW_ANY with meshDataplaneMode ambient: ztunnel does not enforce REGISTRY_ONLY/,
    ],
    [
      "waypoints in sidecar mode",
      "dev",
      { meshNamespaces: { shop: "prod-stable" }, meshWaypoints: ["shop"] },
      /meshWaypoints: waypoints exist only with meshDataplaneMode ambient/,
    ],
    [
      "a waypoint for a namespace outside the mesh",
      "dev",
      { meshDataplaneMode: "ambient", meshNamespaces: { shop: "prod-stable" }, meshWaypoints: ["shop", "blog"] },
      /meshWaypoints\[1\]: must be one of meshNamespaces \(shop\)/,
    ],
    [
      "a single waypoint replica in prod",
      "prod",
      { meshDataplaneMode: "ambient", meshWaypointReplicas: 1 },
      /meshWaypointReplicas: prod needs at least 2 waypoint replicas/,
    ],
    [
      "an unknown data plane mode",
      "dev",
      { meshDataplaneMode: "sidecarless" },
      /meshDataplaneMode: .*sidecar.*ambient/,
    ],
    ["an unknown ingress API", "dev", { ingressApi: "ingress-nginx" }, /ingressApi: .*istio-gateway.*gateway-api/],
  ])("refuses %s", (_what, stack, overrides, message) => {
    expect(refusal(stack, overrides)).toMatch(message);
  });

  it("the data plane keys: ambient gets istio-cni without asking; sidecar stacks get it outside dev unless set", () => {
    const { istioCniEnabled } = require("../stacks/keys/mesh") as typeof import("../stacks/keys/mesh");
    const parsed = (stack: string, overrides: Record<string, unknown> = {}) =>
      istioCniEnabled(parseStackConfig(rawConfig(stack, overrides), stack));
    expect(["dev", "staging", "prod"].map((stack) => parsed(stack))).toEqual([false, true, true]);
    expect(parsed("dev", { meshDataplaneMode: "ambient" })).toBe(true);
    expect(parsed("prod", { istioCni: false })).toBe(false);
    expect(parsed("dev", { istioCni: true })).toBe(true);
    // One message names every wrong key of a stack that gets several wrong at once.
    const message = refusal("prod", {
      meshDataplaneMode: "ambient",
      istioCni: false,
      meshOutboundTrafficPolicy: "REGISTRY_ONLY",
      meshWaypointReplicas: 1,
    });
    for (const key of ["istioCni", "meshOutboundTrafficPolicy", "meshWaypointReplicas"]) expect(message).toContain(key);
  });

  it("anonymous Kiali: dev when asked, elsewhere only with the explicit allowance; STRICT by default everywhere", () => {
    expect(parseStackConfig(rawConfig("dev", { kialiAuthStrategy: "anonymous" }), "dev").kialiAuthStrategy).toBe(
      "anonymous",
    );
    const staging = rawConfig("staging", { kialiAuthStrategy: "anonymous", allowAnonymousKiali: true });
    expect(parseStackConfig(staging, "staging").kialiAuthStrategy).toBe("anonymous");
    for (const stack of ["dev", "staging", "prod"]) {
      const config = parseStackConfig(rawConfig(stack), stack);
      expect(config.meshMtlsMode).toBe("STRICT");
      expect(config.kialiAuthStrategy).toBe("token");
    }
  });
});
