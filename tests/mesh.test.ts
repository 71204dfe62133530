// The mesh and observability layers of every stack under the engine's mocks: what is created, in
// which order (dependsOn), with which Helm values, and what is secret. The layers are built with
// buildMeshLayers on a stand-in Kubernetes provider, exactly as the Platform wires them.
import type { RecordedResource } from "../tools/mocks";
import { evaluateProgram, rawConfig } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const MWC = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration";
const CR = (kind: string, group: string) => `kubernetes:${group}:${kind}`;
const PEER_AUTH = CR("PeerAuthentication", "security.istio.io/v1");
const TELEMETRY = CR("Telemetry", "telemetry.istio.io/v1");
const ADDONS = "istio-openstack:test:Addons";
const [POD_NETWORK, CLOUD_PROVIDER, STORAGE] = ["pod-network", "cloud-provider", "storage"].map(
  (n) => `${ADDONS}::${n}`,
);

function evaluateMesh(stack: string, overrides: Record<string, unknown> = {}) {
  return evaluateProgram(() => {
    const k8s = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { parseStackConfig } = require("../stacks/load") as typeof import("../stacks/load");
    const { buildMeshLayers } = require("../components/platform/mesh") as typeof import("../components/platform/mesh");
    const { meshOutputs } =
      require("../components/platform/outputs") as typeof import("../components/platform/outputs");
    const config = parseStackConfig(rawConfig(stack, overrides), stack);
    const parent = new pulumi.ComponentResource("istio-openstack:index:Platform", config.clusterName, {});
    const provider = new k8s.Provider("k8s", { kubeconfig: "{}" }, { parent });
    const addon = (name: string) => new pulumi.ComponentResource(ADDONS, name, {}, { parent });
    const [podNetwork, cloudProvider, storage] = [addon("pod-network"), addon("cloud-provider"), addon("storage")];
    const layers = buildMeshLayers(parent, config, {
      provider,
      readiness: { pods: [podNetwork, cloudProvider], loadBalancers: [cloudProvider], volumes: [storage] },
    });
    const outputs = meshOutputs(layers);
    return { ...outputs, grafana: layers.observability.grafanaAdminPassword };
  });
}

type Run = Awaited<ReturnType<typeof evaluateMesh>>;

const byName = (run: Run, type: string, suffix: string): RecordedResource => {
  const found = run.ofType(type).find((r) => r.name.endsWith(suffix));
  if (!found)
    throw new Error(
      `no ${type} ending in ${suffix}: ${run
        .ofType(type)
        .map((r) => r.name)
        .join(", ")}`,
    );
  return found;
};
const values = (r: RecordedResource) => r.inputs.values as Record<string, Record<string, unknown>>;

describe.each(["dev", "staging", "prod"])("the %s stack's mesh", (stack) => {
  let run: Run;
  beforeAll(async () => {
    run = await evaluateMesh(stack);
  });

  it("installs base → istiod → gateway in order, each waiting on what it needs and nothing else", () => {
    const base = byName(run, RELEASE, "istio-base");
    const istiod = byName(run, RELEASE, "istiod-1-31-1");
    const gateway = byName(run, RELEASE, "istio-ingressgateway");
    // CRDs and a webhook configuration, no pods: only the namespace, not the add-ons.
    expect(base.dependsOn).toEqual([`${NAMESPACE}::mesh-${stack}-ns-istio-system`]);
    const nameOf = (r: RecordedResource) => (r.inputs.metadata as { name: string }).name;
    const meshNamespaces = run.ofType(NAMESPACE).filter((n) => ["istio-system", "istio-ingress"].includes(nameOf(n)));
    expect(meshNamespaces).toHaveLength(2);
    for (const ns of meshNamespaces) expect(ns.dependsOn).toEqual([]);
    // Its pods need the pod network and initialised nodes.
    expect(istiod.dependsOn).toEqual([base.key, POD_NETWORK, CLOUD_PROVIDER]);
    // The tag's webhook injects its pods; OCCM gives its Service an address (and deletes the load balancer).
    expect([...gateway.dependsOn].sort()).toEqual(
      [
        istiod.key,
        `${MWC}::mesh-${stack}-revision-tag-default`,
        `kubernetes:core/v1:Service::mesh-${stack}-revision-tag-default`,
        `${NAMESPACE}::mesh-${stack}-ns-istio-ingress`,
        CLOUD_PROVIDER,
      ].sort(),
    );
    expect(gateway.dependsOn).not.toContain(STORAGE);
    expect(gateway.inputs).toMatchObject({ name: "istio-ingressgateway", namespace: "istio-ingress" });
    expect(values(base)).toMatchObject({ defaultRevision: "1-31-1" });
  });

  it("pins every release to an exact version and parents everything under the platform", () => {
    const releases = run.ofType(RELEASE);
    // The istio-cni node agent is on by default outside dev (docs/mesh-modes.md).
    const cni = stack === "dev" ? [] : ["istio-cni"];
    expect(releases.map((r) => r.inputs.name).sort()).toEqual(
      [
        "grafana",
        "istio-base",
        "istio-ingressgateway",
        "istiod-1-31-1",
        "jaeger",
        "kiali",
        "prometheus",
        ...cni,
      ].sort(),
    );
    for (const r of releases) {
      expect(r.inputs.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.inputs.atomic).toBe(true);
    }
    expect(run.resources.filter((r) => r.type !== "istio-openstack:index:Platform").every((r) => r.parent)).toBe(true);
  });

  it("applies mesh policy only after istiod serves; STRICT mTLS and token auth reach the cluster", () => {
    const istiod = byName(run, RELEASE, "istiod-1-31-1").key;
    const peer = run.ofType(PEER_AUTH);
    expect(peer.map((p) => [p.inputs.metadata, p.inputs.spec])).toEqual([
      [{ name: "default", namespace: "istio-system" }, { mtls: { mode: "STRICT" } }],
    ]);
    const telemetry = run.ofType(TELEMETRY);
    expect(telemetry).toHaveLength(1);
    for (const r of [...peer, ...telemetry]) expect(r.dependsOn).toContain(istiod);
    expect(values(byName(run, RELEASE, "kiali")).auth).toEqual({ strategy: "token" });
    const sampling = { dev: 100, staging: 10, prod: 1 }[stack];
    expect((telemetry[0].inputs.spec as { tracing: unknown[] }).tracing).toEqual([
      { providers: [{ name: "jaeger" }], randomSamplingPercentage: sampling },
    ]);
  });

  it("installs observability beside the mesh: each release waits for what its pods need, not for istiod or the others", () => {
    const istioSystem = `${NAMESPACE}::mesh-${stack}-ns-istio-system`;
    const releases = ["prometheus", "jaeger", "grafana", "kiali"].map((name) => byName(run, RELEASE, name));
    const keys = new Set(releases.map((r) => r.key));
    for (const release of releases) {
      expect(release.dependsOn).toEqual(expect.arrayContaining([istioSystem, POD_NETWORK, CLOUD_PROVIDER]));
      expect(release.dependsOn).not.toContain(byName(run, RELEASE, "istiod-1-31-1").key);
      expect(release.dependencies.filter((d) => keys.has(d))).toEqual([]);
    }
    // Prometheus keeps its data on a volume of the default StorageClass.
    expect(byName(run, RELEASE, "prometheus").dependsOn).toContain(STORAGE);
    // Grafana and Kiali mount Secrets the program creates.
    const secrets = (r: RecordedResource) => r.dependsOn.filter((d) => d.startsWith("kubernetes:core/v1:Secret::"));
    expect(secrets(byName(run, RELEASE, "grafana")).length).toBeGreaterThanOrEqual(2);
    expect(secrets(byName(run, RELEASE, "kiali")).length).toBeGreaterThanOrEqual(2);
  });

  it("Prometheus keeps the stack's retention; the gateway is sized and protected per environment", () => {
    const retention = { dev: "7d", staging: "15d", prod: "30d" }[stack];
    expect(values(byName(run, RELEASE, "prometheus")).server).toMatchObject({ retention });
    const gateway = values(byName(run, RELEASE, "istio-ingressgateway"));
    expect(gateway.service).toMatchObject({ type: "LoadBalancer", externalTrafficPolicy: "Cluster" });
    if (stack === "prod") {
      expect(gateway.replicaCount).toBeGreaterThanOrEqual(2);
      expect(gateway.podDisruptionBudget).toEqual({ minAvailable: 1 });
    }
  });

  it("keeps Grafana's password secret and exports the access the user needs", () => {
    const secret = byName(run, "kubernetes:core/v1:Secret", "grafana-admin");
    expect(secret.secretInputs).toContain("stringData");
    expect(run.secretOutputs).toContain("grafana");
    expect(JSON.stringify(run.outputs.mesh)).not.toContain(String(run.outputs.grafana));
    expect(run.outputs.mesh).toMatchObject({
      ingressGateway: {
        namespace: "istio-ingress",
        service: "istio-ingressgateway",
        address: expect.stringMatching(/^198\.51\.100\./),
      },
      revisions: [{ version: "1.31.1", revision: "1-31-1" }],
      tags: { default: "1-31-1", "prod-stable": "1-31-1" },
    });
    expect(run.outputs.injectionLabel).toEqual({ "istio.io/rev": "prod-stable" });
    expect(run.outputs.observability).toMatchObject({
      kiali: { command: "kubectl -n istio-system port-forward svc/kiali 20001:20001", externalUrl: null },
    });
  });
});

describe("a canary upgrade is a config change", () => {
  it("two revisions side by side, tags pointing where the stack says, base following the default tag", async () => {
    const run = await evaluateMesh("staging", {
      istioRevisions: ["1.31.1", "1.32.0"],
      istioRevisionTags: { default: "1.31.1", "prod-stable": "1.31.1", "prod-canary": "1.32.0" },
      meshNamespaces: { shop: "prod-stable", "shop-canary": "prod-canary" },
    });
    const oldIstiod = byName(run, RELEASE, "istiod-1-31-1");
    const newIstiod = byName(run, RELEASE, "istiod-1-32-0");
    expect([oldIstiod.inputs.version, newIstiod.inputs.version]).toEqual(["1.31.1", "1.32.0"]);
    expect(values(newIstiod).revision).toBe("1-32-0");
    // CRDs from the newest chart; validation and defaultRevision from the default tag.
    const base = byName(run, RELEASE, "istio-base");
    expect(base.inputs.version).toBe("1.32.0");
    expect(values(base).defaultRevision).toBe("1-31-1");
    const tagTarget = (tag: string) => {
      const mwc = byName(run, MWC, `revision-tag-${tag}`);
      const hooks = mwc.inputs.webhooks as { clientConfig: { service: { name: string } } }[];
      return { service: hooks[0].clientConfig.service.name, dependsOn: mwc.dependsOn };
    };
    expect(tagTarget("prod-canary")).toEqual({ service: "istiod-1-32-0", dependsOn: [newIstiod.key] });
    expect(tagTarget("prod-stable")).toEqual({ service: "istiod-1-31-1", dependsOn: [oldIstiod.key] });
    // Namespaces join by tag, after the tag's webhook exists; never with istio-injection.
    const shop = byName(run, NAMESPACE, "ns-shop-canary");
    expect(shop.inputs.metadata).toMatchObject({ name: "shop-canary", labels: { "istio.io/rev": "prod-canary" } });
    expect(shop.dependsOn).toContain(`${MWC}::mesh-staging-revision-tag-prod-canary`);
    for (const ns of run.ofType(NAMESPACE)) {
      expect(Object.keys((ns.inputs.metadata as { labels?: object }).labels ?? {})).not.toContain("istio-injection");
    }
    expect(run.outputs.mesh).toMatchObject({ defaultRevision: "1-31-1", tags: { "prod-canary": "1-32-0" } });
  });
});

describe("what a stack asks for reaches the charts", () => {
  it("PROXY protocol, a fixed floating IP, PERMISSIVE exceptions, anonymous Kiali in dev, Kiali behind the gateway", async () => {
    const run = await evaluateMesh("dev", {
      ingressGatewayProxyProtocol: true,
      ingressGatewayFloatingIp: "198.51.100.20",
      ingressGatewayAnnotations: { "loadbalancer.openstack.org/flavor-id": "f-1" },
      meshNamespaces: { legacy: "prod-stable" },
      meshPermissiveNamespaces: ["legacy"],
      kialiAuthStrategy: "anonymous",
      kialiHost: "kiali.dev.example.com",
      kialiTlsSecret: "kiali-tls",
      egressGateway: true,
      chartRepositories: {
        istiod: "oci://ghcr.io/istio/release/charts",
        "kiali-server": "https://mirror.example.com/kiali",
      },
    });
    // A mirror per chart: OCI as a full reference, HTTP as repositoryOpts; the version stays pinned.
    expect(byName(run, RELEASE, "istiod-1-31-1").inputs).toMatchObject({
      chart: "oci://ghcr.io/istio/release/charts/istiod",
      version: "1.31.1",
    });
    expect(byName(run, RELEASE, "istiod-1-31-1").inputs).not.toHaveProperty("repositoryOpts");
    expect(byName(run, RELEASE, "kiali").inputs).toMatchObject({
      chart: "kiali-server",
      repositoryOpts: { repo: "https://mirror.example.com/kiali" },
    });
    const gateway = values(byName(run, RELEASE, "istio-ingressgateway"));
    expect(gateway.service).toMatchObject({
      loadBalancerIP: "198.51.100.20",
      annotations: {
        "loadbalancer.openstack.org/proxy-protocol": "true",
        "loadbalancer.openstack.org/keep-floatingip": "true",
        "loadbalancer.openstack.org/flavor-id": "f-1",
      },
    });
    expect(gateway.podAnnotations).toMatchObject({
      "proxy.istio.io/config": '{"gatewayTopology":{"proxyProtocol":{}}}',
    });
    expect(values(byName(run, RELEASE, "istio-egressgateway")).service).toMatchObject({ type: "ClusterIP" });
    const legacy = run
      .ofType(PEER_AUTH)
      .find((p) => (p.inputs.metadata as { namespace: string }).namespace === "legacy");
    expect(legacy?.inputs.spec).toEqual({ mtls: { mode: "PERMISSIVE" } });
    expect(legacy?.dependsOn).toContain(`${NAMESPACE}::mesh-dev-ns-legacy`);
    expect(values(byName(run, RELEASE, "kiali")).auth).toEqual({ strategy: "anonymous" });
    const route = byName(run, CR("Gateway", "networking.istio.io/v1"), "kiali-gateway");
    expect(route.inputs.spec).toMatchObject({ selector: { istio: "ingressgateway" } });
    expect(route.dependsOn).toEqual(expect.arrayContaining([byName(run, RELEASE, "istio-ingressgateway").key]));
    expect(
      byName(run, CR("VirtualService", "networking.istio.io/v1"), "kiali-virtualservice").inputs.spec,
    ).toMatchObject({
      hosts: ["kiali.dev.example.com"],
      gateways: ["istio-ingress/kiali"],
    });
    expect(run.outputs.observability).toMatchObject({ kiali: { externalUrl: "https://kiali.dev.example.com/kiali" } });
  });
});
