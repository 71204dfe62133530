// The data plane modes (sidecar, sidecar + istio-cni, ambient) and the ingress APIs (Istio's gateway
// chart, Kubernetes Gateway API) in every stack, under the engine's mocks: what each combination
// installs, in which order, with which values and labels, and what a consumer gets to attach a route.
import type { RecordedResource } from "../tools/mocks";
import { evaluateProgram, rawConfig } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";

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
    const addon = (name: string) => new pulumi.ComponentResource("istio-openstack:test:Addons", name, {}, { parent });
    const [podNetwork, cloudProvider, storage] = [addon("pod-network"), addon("cloud-provider"), addon("storage")];
    return meshOutputs(
      buildMeshLayers(parent, config, {
        provider,
        readiness: { pods: [podNetwork, cloudProvider], loadBalancers: [cloudProvider], volumes: [storage] },
      }),
    );
  });
}

type Run = Awaited<ReturnType<typeof evaluateMesh>>;

const release = (run: Run, name: string): RecordedResource | undefined =>
  run.ofType(RELEASE).find((r) => r.inputs.name === name);
const mustRelease = (run: Run, name: string): RecordedResource => {
  const found = release(run, name);
  if (!found) throw new Error(`no release ${name}: ${run.ofType(RELEASE).map((r) => r.inputs.name)}`);
  return found;
};
const values = (r: RecordedResource) => r.inputs.values as Record<string, unknown>;
const metadata = (r: RecordedResource) =>
  r.inputs.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
const namespaceNamed = (run: Run, name: string) => run.ofType(NAMESPACE).find((n) => metadata(n).name === name);
/** A namespace's labels apart from its Pod Security ones (asserted on their own). */
const meshLabels = (r: RecordedResource) =>
  Object.fromEntries(
    Object.entries(metadata(r).labels ?? {}).filter(([k]) => !k.startsWith("pod-security.kubernetes.io/")),
  );
const enforced = (run: Run, name: string) =>
  metadata(namespaceNamed(run, name) as RecordedResource).labels?.["pod-security.kubernetes.io/enforce"];
const gatewayIn = (run: Run, namespace: string) =>
  run.ofType(GATEWAY).find((g) => metadata(g).namespace === namespace) as RecordedResource;

// Each evaluation with the Gateway API bundle sends 1.2 MB of CRDs through the SDK: give a busy
// 2-core machine room (the suite's 20 s default is for single, small evaluations).
jest.setTimeout(90_000);

const SHOP = { meshNamespaces: { shop: "prod-stable", blog: "prod-stable" } };
const AMBIENT = { meshDataplaneMode: "ambient", ...SHOP, meshWaypoints: ["shop"] };

describe.each(["dev", "staging", "prod"])("the %s stack", (stack) => {
  describe("in sidecar mode with istio-cni and Gateway API ingress", () => {
    let run: Run;
    beforeAll(async () => {
      run = await evaluateMesh(stack, { istioCni: true, ingressApi: "gateway-api", ...SHOP });
    });

    it("installs the node agent after istiod, tells every istiod to leave out istio-init, and no ztunnel", () => {
      const cni = mustRelease(run, "istio-cni");
      const istiod = mustRelease(run, "istiod-1-31-1");
      expect(cni.inputs).toMatchObject({ chart: "cni", namespace: "istio-system", version: "1.31.1" });
      expect(values(cni)).toEqual({});
      expect(cni.dependsOn).toEqual([istiod.key]);
      expect(values(istiod)).toMatchObject({ cni: { enabled: true } });
      expect(values(istiod)).not.toHaveProperty("profile");
      expect(release(run, "ztunnel")).toBeUndefined();
    });

    it("Pod Security: the node agents make istio-system privileged, and let applications run under baseline", () => {
      expect([enforced(run, "istio-system"), enforced(run, "shop"), enforced(run, "istio-ingress")]).toEqual([
        "privileged",
        "baseline",
        "baseline",
      ]);
    });

    it("application namespaces join by tag, may attach routes, and wait for the node agent", () => {
      const shop = namespaceNamed(run, "shop") as RecordedResource;
      expect(meshLabels(shop)).toEqual({ "istio.io/rev": "prod-stable", "shared-gateway-access": "true" });
      expect(shop.dependsOn).toContain(mustRelease(run, "istio-cni").key);
    });

    it("ingress is the Gateway API Gateway, on the Gateway API CRDs, with sidecars", () => {
      expect(gatewayIn(run, "istio-ingress")).toBeDefined();
      expect(release(run, "istio-ingressgateway")).toBeUndefined();
      expect(run.ofType(CRD).length).toBeGreaterThan(5);
      expect(run.outputs.mesh).toMatchObject({ dataplaneMode: "sidecar", ingressApi: "gateway-api" });
    });
  });

  it("without istio-cni (dev's default, or set off) and the classic gateway: as before these keys existed", async () => {
    const run = await evaluateMesh(stack, { ...SHOP, ...(stack === "dev" ? {} : { istioCni: false }) });
    expect(release(run, "istio-cni")).toBeUndefined();
    expect(values(mustRelease(run, "istiod-1-31-1"))).not.toHaveProperty("cni");
    expect(run.ofType(CRD)).toEqual([]);
    expect(run.ofType(GATEWAY)).toEqual([]);
    expect(release(run, "ztunnel")).toBeUndefined();
    expect(JSON.stringify(run.ofType(NAMESPACE).map((n) => n.inputs))).not.toContain("dataplane-mode");
    expect(meshLabels(namespaceNamed(run, "shop") as RecordedResource)).toEqual({ "istio.io/rev": "prod-stable" });
    expect(run.outputs.mesh).toMatchObject({ dataplaneMode: "sidecar", ingressApi: "istio-gateway", gateway: null });
    // Without the node agent, istio-init needs NET_ADMIN: applications privileged, istio-system baseline.
    expect([enforced(run, "istio-system"), enforced(run, "shop")]).toEqual(["baseline", "privileged"]);
  });

  describe("in ambient mode with Gateway API ingress", () => {
    let run: Run;
    beforeAll(async () => {
      run = await evaluateMesh(stack, { ...AMBIENT, ingressApi: "gateway-api", egressGateway: true });
    });

    it("installs in Istio's ambient order: Gateway API CRDs, base, istiod (ambient profile), istio-cni, ztunnel", () => {
      const crds = run.ofType(CRD);
      const istiod = mustRelease(run, "istiod-1-31-1");
      const cni = mustRelease(run, "istio-cni");
      const ztunnel = mustRelease(run, "ztunnel");
      expect(istiod.dependsOn).toEqual(
        expect.arrayContaining([mustRelease(run, "istio-base").key, ...crds.map((c) => c.key)]),
      );
      expect(values(istiod)).toMatchObject({ profile: "ambient", cni: { enabled: true } });
      expect(cni.dependsOn).toEqual([istiod.key]);
      expect(values(cni)).toEqual({ profile: "ambient" });
      expect(ztunnel.dependsOn).toEqual([istiod.key, cni.key]);
      expect(ztunnel.inputs).toMatchObject({ chart: "ztunnel", namespace: "istio-system", version: "1.31.1" });
      expect(values(ztunnel)).toEqual({ revision: "1-31-1" });
    });

    it("keeps the CRDs on destroy: every object of the bundle is retained and applied with force", () => {
      const bundle = [...run.ofType(CRD), ...run.ofType(VAP)];
      expect(run.ofType(CRD).map((c) => metadata(c).name)).toContain("httproutes.gateway.networking.k8s.io");
      expect(bundle.length).toBeGreaterThan(5);
      for (const object of bundle) {
        expect(object.options.retainOnDelete).toBe(true);
        expect((object.inputs.metadata as { annotations: Record<string, string> }).annotations).toMatchObject({
          "pulumi.com/patchForce": "true",
          "gateway.networking.k8s.io/channel": "standard",
        });
      }
    });

    it("labels namespaces for ambient (never istio.io/rev), and gives a waypoint to those that ask", () => {
      const shop = namespaceNamed(run, "shop") as RecordedResource;
      const blog = namespaceNamed(run, "blog") as RecordedResource;
      expect(meshLabels(shop)).toEqual({
        "istio.io/dataplane-mode": "ambient",
        "istio.io/use-waypoint": "waypoint",
        "shared-gateway-access": "true",
      });
      expect(meshLabels(blog)).not.toHaveProperty("istio.io/rev");
      expect(meshLabels(blog)).not.toHaveProperty("istio.io/use-waypoint");
      expect(shop.dependsOn).toEqual(expect.arrayContaining([mustRelease(run, "ztunnel").key]));
      const waypoint = gatewayIn(run, "shop");
      expect(waypoint.inputs).toMatchObject({
        metadata: { name: "waypoint", labels: { "istio.io/rev": "prod-stable", "istio.io/waypoint-for": "service" } },
        spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
      });
      expect(waypoint.dependsOn).toContain(shop.key);
      expect(gatewayIn(run, "blog")).toBeUndefined();
      expect(run.outputs.injectionLabel).toEqual({ "istio.io/dataplane-mode": "ambient" });
    });

    it("sizes waypoints per environment: one in dev, two with a PodDisruptionBudget in staging and prod", () => {
      const classes = values(mustRelease(run, "istiod-1-31-1")).gatewayClasses;
      const replicas = stack === "dev" ? 1 : 2;
      expect(classes).toEqual({
        "istio-waypoint": {
          deployment: { spec: { replicas } },
          ...(replicas >= 2 ? { podDisruptionBudget: { spec: { minAvailable: 1 } } } : {}),
        },
      });
    });

    it("the egress gateway is an egress waypoint in istio-egress, not the classic chart", () => {
      expect(release(run, "istio-egressgateway")).toBeUndefined();
      expect(meshLabels(namespaceNamed(run, "istio-egress") as RecordedResource)).toEqual({
        "istio.io/dataplane-mode": "ambient",
        "istio.io/use-waypoint": "waypoint",
      });
      expect(gatewayIn(run, "istio-egress").inputs).toMatchObject({
        metadata: { name: "waypoint", labels: { "istio.io/rev": "default" } },
        spec: { gatewayClassName: "istio-waypoint" },
      });
    });

    it("ingress is a Gateway of class istio with its parameters, instead of the gateway chart", () => {
      expect(release(run, "istio-ingressgateway")).toBeUndefined();
      const gateway = gatewayIn(run, "istio-ingress");
      const parameters = run.ofType(CONFIG_MAP).find((c) => metadata(c).namespace === "istio-ingress");
      expect(parameters).toBeDefined();
      expect(gateway.inputs).toMatchObject({
        metadata: {
          name: "ingress",
          labels: { "istio.io/rev": "default" },
          annotations: { "pulumi.com/waitFor": "condition=Programmed" },
        },
        spec: {
          gatewayClassName: "istio",
          infrastructure: {
            parametersRef: { group: "", kind: "ConfigMap", name: metadata(parameters as RecordedResource).name },
          },
          listeners: [{ name: "http", port: 80, protocol: "HTTP" }],
        },
      });
      expect(gateway.dependsOn).toEqual(
        expect.arrayContaining([
          (parameters as RecordedResource).key,
          mustRelease(run, "istiod-1-31-1").key,
          // Its LoadBalancer Service gets its address from OCCM, which must outlive it on destroy.
          "istio-openstack:test:Addons::cloud-provider",
        ]),
      );
      // The address is read from the Service Istio generates, once the Gateway is programmed.
      const service = run.ofType("kubernetes:core/v1:Service").find((r) => r.name.endsWith("-ingress-service"));
      expect(service?.dependsOn).toEqual([gateway.key]);
    });

    it("exports what a consumer needs to attach an HTTPRoute", () => {
      expect(run.outputs.mesh).toMatchObject({
        dataplaneMode: "ambient",
        ingressApi: "gateway-api",
        revisionTag: "prod-stable",
        ingressGateway: { namespace: "istio-ingress", service: "ingress-istio" },
        gateway: {
          name: "ingress",
          namespace: "istio-ingress",
          gatewayClassName: "istio",
          listeners: ["http"],
          parentRef: {
            group: "gateway.networking.k8s.io",
            kind: "Gateway",
            name: "ingress",
            namespace: "istio-ingress",
            sectionName: "http",
          },
          routeNamespaceLabel: { "shared-gateway-access": "true" },
        },
      });
    });
  });
});

it("ambient with the classic ingress gateway still installs the Gateway API CRDs (waypoints are Gateways)", async () => {
  const run = await evaluateMesh("staging", AMBIENT);
  expect(mustRelease(run, "istio-ingressgateway")).toBeDefined();
  expect(run.ofType(CRD).length).toBeGreaterThan(5);
  expect((run.outputs.mesh as { gateway: unknown }).gateway).toBeNull();
});

describe("an ambient canary upgrade", () => {
  const OLD = "1.31.1";
  const NEW = "1.32.0";
  const step = (defaultTag: string, stable: string) => ({
    ...AMBIENT,
    istioRevisions: [OLD, NEW],
    istioRevisionTags: { default: defaultTag, "prod-stable": stable, "prod-canary": NEW },
    meshNamespaces: { shop: "prod-stable", "shop-canary": "prod-canary" },
    meshWaypoints: ["shop", "shop-canary"],
  });

  it("step 1 (add the revision): node agents stay on the old one; only the canary's waypoint moves", async () => {
    const run = await evaluateMesh("prod", step(OLD, OLD));
    const ztunnel = mustRelease(run, "ztunnel");
    expect(ztunnel.inputs.version).toBe(OLD);
    expect(values(ztunnel)).toEqual({ revision: "1-31-1" });
    expect(mustRelease(run, "istio-cni").inputs.version).toBe(OLD);
    expect(ztunnel.dependsOn).toContain(mustRelease(run, "istiod-1-31-1").key);
    expect(metadata(gatewayIn(run, "shop-canary")).labels).toMatchObject({ "istio.io/rev": "prod-canary" });
    expect(metadata(gatewayIn(run, "shop")).labels).toMatchObject({ "istio.io/rev": "prod-stable" });
    // Both revisions run ambient, with the node agent's redirection.
    for (const istiod of ["istiod-1-31-1", "istiod-1-32-0"]) {
      expect(values(mustRelease(run, istiod))).toMatchObject({ profile: "ambient", cni: { enabled: true } });
    }
  });

  it("step 2 (move default): istio-cni and ztunnel upgrade in place to the new revision", async () => {
    const run = await evaluateMesh("prod", step(NEW, OLD));
    const ztunnel = mustRelease(run, "ztunnel");
    expect([ztunnel.inputs.version, mustRelease(run, "istio-cni").inputs.version]).toEqual([NEW, NEW]);
    expect(values(ztunnel)).toEqual({ revision: "1-32-0" });
    expect(ztunnel.dependsOn).toContain(mustRelease(run, "istiod-1-32-0").key);
    expect(ztunnel.dependsOn).not.toContain(mustRelease(run, "istiod-1-31-1").key);
    // One release each, whatever the number of revisions: the DaemonSets have fixed names.
    expect(run.ofType(RELEASE).filter((r) => ["ztunnel", "istio-cni"].includes(String(r.inputs.name)))).toHaveLength(2);
  });
});

describe("Kiali on its own host with Gateway API ingress", () => {
  it("gets HTTPS and HTTP listeners on the ingress Gateway, an HTTPRoute beside Kiali and a redirect", async () => {
    const run = await evaluateMesh("staging", {
      ingressApi: "gateway-api",
      kialiHost: "kiali.example.com",
      kialiTlsSecret: "kiali-tls",
    });
    const listeners = (gatewayIn(run, "istio-ingress").inputs.spec as { listeners: Record<string, unknown>[] })
      .listeners;
    expect(listeners).toEqual([
      expect.objectContaining({ name: "http", port: 80 }),
      expect.objectContaining({
        name: "https-kiali",
        port: 443,
        protocol: "HTTPS",
        hostname: "kiali.example.com",
        tls: { mode: "Terminate", certificateRefs: [{ name: "kiali-tls" }] },
        allowedRoutes: {
          namespaces: {
            from: "Selector",
            selector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } },
          },
        },
      }),
      expect.objectContaining({ name: "http-kiali", port: 80, hostname: "kiali.example.com" }),
    ]);
    const routes = run.ofType(HTTP_ROUTE);
    expect(routes.map((r) => [metadata(r).name, metadata(r).namespace])).toEqual([
      ["kiali", "istio-system"],
      ["kiali-redirect", "istio-system"],
    ]);
    expect(routes[0].inputs.spec).toMatchObject({
      parentRefs: [{ name: "ingress", namespace: "istio-ingress", sectionName: "https-kiali" }],
      hostnames: ["kiali.example.com"],
      rules: [
        {
          matches: [{ path: { type: "PathPrefix", value: "/grafana" } }],
          backendRefs: [{ name: "grafana", port: 80 }],
        },
        { backendRefs: [{ name: "kiali", port: 20001 }] },
      ],
    });
    expect(run.ofType("kubernetes:networking.istio.io/v1:VirtualService")).toEqual([]);
    expect(run.outputs.mesh).toMatchObject({ gateway: { listeners: ["http", "https-kiali", "http-kiali"] } });
  });
});
