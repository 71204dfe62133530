/**
 * The consumer example (examples/consumer), under mocks with a mocked platform stack whose outputs are
 * made from the reviewed output contract: what it creates, with which inputs, in which order, what
 * stays secret; its Istio objects against Istio's published schemas; its post-deploy check script
 * against a fake kubectl.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as consumerProgram from "../examples/consumer/index";
import { sidecarCheckScript } from "../examples/consumer/src/check";
import { parseConsumerConfig } from "../examples/consumer/src/config";
import { commandCredentialsNotInline } from "../policy/secrets";
import { type ConsumerRun, evaluateConsumer, type PlatformState } from "./examples-harness";
import { ROOT } from "./harness";
import { istioSchemaErrors } from "./istioSchema";
import { loadContract, sampleOutputs } from "./outputs-contract-shape";
import { requiredTool } from "./validators";

const KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters: [{name: mesh-dev, cluster: {server: 'https://198.51.100.10:6443'}}]",
  "users: [{name: admin, user: {client-key-data: TUlTVEVSLUtFWQ==}}]",
].join("\n");
const REVISION_LABEL = { "istio.io/rev": "prod-stable" };

/** A sidecar platform with the classic gateway, unless overridden (dotted paths into the outputs). */
function platform(overrides: Record<string, unknown> = {}): PlatformState {
  return sampleOutputs(loadContract(), {
    kubeconfig: KUBECONFIG,
    injectionLabel: REVISION_LABEL,
    "mesh.dataplaneMode": "sidecar",
    "mesh.revisionTag": "prod-stable",
    "mesh.gateway": null,
    ...overrides,
  });
}

const NAMESPACE = "kubernetes:core/v1:Namespace";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
const DESTINATION_RULE = "kubernetes:networking.istio.io/v1:DestinationRule";
const COMMAND = "command:local:Command";

interface Route {
  destination: { host: string; subset: string };
  weight: number;
}
type HttpRoute = { route: Route[]; fault?: Record<string, unknown> };

const spec = (r: { inputs: Record<string, unknown> }) => r.inputs.spec as Record<string, unknown>;
const routesOf = (run: ConsumerRun) => (spec(run.one(VIRTUAL_SERVICE)).http as HttpRoute[])[0];

let run: ConsumerRun;
beforeAll(async () => {
  run = await evaluateConsumer({ platformStack: "my-org/istio-openstack/dev" }, platform());
});

describe("the consumer reads the platform through a StackReference", () => {
  it("references the configured platform stack", () => {
    expect(run.one("pulumi:pulumi:StackReference").inputs.name).toBe("my-org/istio-openstack/dev");
  });

  it("builds its Kubernetes provider from the platform's kubeconfig, kept secret", () => {
    const provider = run.one("pulumi:providers:kubernetes", "platform");
    expect(provider.inputs.kubeconfig).toBe(KUBECONFIG);
    expect(provider.secretPaths).toContain("kubeconfig");
  });

  it("creates the namespace with the platform's injection label, and no istio-injection label", () => {
    const labels = (run.one(NAMESPACE).inputs.metadata as { labels: Record<string, string> }).labels;
    expect(labels).toEqual(REVISION_LABEL);
    expect(labels).not.toHaveProperty("istio-injection");
  });

  /** The platform view alone, in its own process (see examples-platform-probe.ts). */
  const probe = (states: PlatformState[]) =>
    new Promise<{ values?: Record<string, unknown>; error?: string }[]>((resolve, reject) => {
      const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
      const child = spawn(tsx, ["tests/examples-platform-probe.ts"], { cwd: ROOT });
      let stdout = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.on("error", reject);
      child.on("close", () => resolve(JSON.parse(stdout)));
      child.stdin.end(JSON.stringify(states));
    });

  it("reads the platform's outputs typed, the kubeconfig as a secret; fails on an unknown contract version, a missing kubeconfig or no mesh", async () => {
    const { kubeconfig: _missing, ...withoutKubeconfig } = platform().outputs;
    const [good, newer, noKubeconfig, noMesh] = await probe([
      platform(),
      platform({ contractVersion: 2 }),
      { outputs: withoutKubeconfig, secretOutputNames: [] },
      platform({ injectionLabel: null }),
    ]);
    expect(good.values).toEqual({
      clusterName: "clusterName-value",
      kubeconfig: KUBECONFIG,
      injectionLabel: REVISION_LABEL,
      kubeconfigSecret: true,
    });
    expect(newer.error).toMatch(/output contract v2; this project understands v1/);
    expect(noKubeconfig.error).toMatch(/Required output 'kubeconfig' does not exist/);
    expect(noMesh.error).toMatch(/injectionLabel output is null: it has no cluster or mesh/);
  });

  it("creates nothing in the cluster before the platform's label (and so its contract version) is known", () => {
    const namespace = run.one(NAMESPACE);
    const inCluster = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r !== namespace);
    expect(inCluster.length).toBeGreaterThan(0);
    for (const resource of inCluster) expect(resource.dependsOn).toContain(namespace.name);
  });
});

describe("the samples", () => {
  it("sleep and httpbin v1 and v2 run in the namespace; one Service selects both versions", () => {
    const deployments = run.ofType(DEPLOYMENT).map((d) => {
      const template = (spec(d).template as { metadata: { labels: Record<string, string> } }).metadata.labels;
      return [d.name, template, d.dependsOn];
    });
    expect(deployments).toEqual([
      ["sleep", { app: "sleep" }, ["mesh-demo"]],
      ["httpbin-v1", { app: "httpbin", version: "v1" }, ["mesh-demo"]],
      ["httpbin-v2", { app: "httpbin", version: "v2" }, ["mesh-demo"]],
    ]);
    const service = run.one("kubernetes:core/v1:Service", "httpbin");
    expect(spec(service).selector).toEqual({ app: "httpbin" });
  });

  it("splits httpbin 90/10 between the v1 and v2 subsets, the weights adding up to 100", () => {
    const { route, fault } = routesOf(run);
    expect(route.map((r) => [r.destination.subset, r.weight])).toEqual([
      ["v1", 90],
      ["v2", 10],
    ]);
    expect(route.reduce((sum, r) => sum + r.weight, 0)).toBe(100);
    expect(fault).toBeUndefined();
  });

  it("defines those subsets by version label, behind a circuit breaker", () => {
    const rule = spec(run.one(DESTINATION_RULE));
    const subsets = (rule.subsets as { name: string; labels: Record<string, string> }[]).map((s) => [s.name, s.labels]);
    expect(subsets).toEqual([
      ["v1", { version: "v1" }],
      ["v2", { version: "v2" }],
    ]);
    const routed = new Set(routesOf(run).route.map((r) => r.destination.subset));
    expect(subsets.map(([name]) => name)).toEqual([...routed]);
    expect(rule.host).toBe(routesOf(run).route[0].destination.host);
    expect(rule.trafficPolicy).toMatchObject({
      connectionPool: {
        tcp: { maxConnections: expect.any(Number) },
        http: { http1MaxPendingRequests: expect.any(Number) },
      },
      outlierDetection: { consecutive5xxErrors: expect.any(Number), baseEjectionTime: expect.any(String) },
    });
  });

  it("takes another canary weight and fault injection from config", async () => {
    const faulty = await evaluateConsumer(
      {
        platformStack: "org/istio-openstack/dev",
        canaryWeight: "25",
        faultInjection: JSON.stringify({
          delay: { percent: 10, fixedDelay: "5s" },
          abort: { percent: 5, httpStatus: 503 },
        }),
      },
      platform(),
    );
    const { route, fault } = routesOf(faulty);
    expect(route.map((r) => r.weight)).toEqual([75, 25]);
    expect(fault).toEqual({
      delay: { percentage: { value: 10 }, fixedDelay: "5s" },
      abort: { percentage: { value: 5 }, httpStatus: 503 },
    });
  });

  it("its Istio objects are valid against Istio's published schemas (and a broken one is not)", () => {
    const objects = [run.one(VIRTUAL_SERVICE), run.one(DESTINATION_RULE)].map((r) => r.inputs);
    const broken = { ...objects[0], spec: { ...spec({ inputs: objects[0] }), http: [{ route: [{ weight: "90" }] }] } };
    const [vs, dr, bad] = istioSchemaErrors([...objects, broken]);
    expect([vs, dr]).toEqual([[], []]);
    expect(bad.join("\n")).toMatch(/weight must be integer/);
  });
});

describe("the post-deploy sidecar check", () => {
  it("runs after the namespace's workloads, with the kubeconfig only in its secret environment", () => {
    const check = run.one(COMMAND, "sidecar-check");
    expect(check.dependsOn).toEqual(["sleep", "httpbin-v1", "httpbin-v2"]);
    expect(check.inputs.environment).toEqual({ NAMESPACE: "mesh-demo", MODE: "sidecar", KUBECONFIG_DATA: KUBECONFIG });
    expect(check.secretPaths).toContain("environment");
    expect(String(check.inputs.create)).not.toContain("client-key-data");
    expect(check.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
  });

  it("passes the pack's command-credentials-not-inline policy", () => {
    const check = run.one(COMMAND, "sidecar-check");
    const reportViolation = jest.fn();
    const validate = commandCredentialsNotInline.validateResource as (...args: unknown[]) => void;
    validate(
      { type: COMMAND, props: check.inputs, opts: { additionalSecretOutputs: check.additionalSecretOutputs } },
      reportViolation,
    );
    expect(reportViolation).not.toHaveBeenCalled();
  });

  describe("its script, against a fake kubectl", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sidecar-check-"));
    const log = path.join(dir, "kubectl.log");
    // Records its arguments and the kubeconfig it was handed; answers like kubectl's jsonpath output.
    writeFileSync(
      path.join(dir, "kubectl"),
      [
        "#!/bin/sh",
        `echo "$*" >>"${log}"`,
        'cp "$2" "$(dirname "$0")/seen-kubeconfig"',
        'case "$*" in *initContainers*) printf "%s" "$FAKE_INIT" ;; *redirection*) printf "%s" "$FAKE_REDIRECTION" ;; *) printf "%s" "$FAKE_CONTAINERS" ;; esac',
      ].join("\n"),
    );
    chmodSync(path.join(dir, "kubectl"), 0o755);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const runScript = (containers: string, init = "", mode = "sidecar", redirection = "") =>
      spawnSync("/bin/sh", ["-c", sidecarCheckScript()], {
        encoding: "utf8",
        env: {
          PATH: `${dir}:/usr/bin:/bin`,
          NAMESPACE: "mesh-demo",
          KUBECONFIG_DATA: KUBECONFIG,
          ATTEMPTS: "1",
          TMPDIR: dir,
          FAKE_CONTAINERS: containers,
          FAKE_INIT: init,
          MODE: mode,
          FAKE_REDIRECTION: redirection,
        },
      });

    it("passes with an istio-proxy container, and asks kubectl exactly for the sleep pod's containers", () => {
      const result = runScript("sleep istio-proxy");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/istio-proxy container/);
      const calls = readFileSync(log, "utf8").split("\n");
      expect(calls[0]).toMatch(
        /^--kubeconfig \S+ -n mesh-demo get pod -l app=sleep -o jsonpath=\{\.items\[0\]\.spec\.containers\[\*\]\.name\}$/,
      );
      expect(readFileSync(path.join(dir, "seen-kubeconfig"), "utf8").trim()).toBe(KUBECONFIG);
    });

    it("passes with Istio's native sidecar (init container istio-proxy, restartPolicy Always)", () => {
      const result = runScript("sleep", "istio-init= istio-proxy=Always ");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/native istio-proxy/);
    });

    it("fails without a sidecar, or with istio-proxy only as a plain init container, and says why", () => {
      for (const [containers, init] of [
        ["sleep", ""],
        ["sleep", "istio-proxy= "],
      ]) {
        const result = runScript(containers, init);
        expect(result.status).toBe(1);
        expect(result.stderr).toMatch(/no istio-proxy sidecar in the sleep pod of mesh-demo/);
      }
    });

    it("in ambient mode passes on the node agent's redirection annotation, and fails without it or with a sidecar", () => {
      const ok = runScript("sleep", "", "ambient", "enabled");
      expect(ok.status).toBe(0);
      expect(ok.stdout).toMatch(/redirected to ztunnel/);
      expect(readFileSync(log, "utf8")).toContain("metadata.annotations.ambient\\.istio\\.io/redirection");
      const pending = runScript("sleep", "", "ambient", "pending");
      expect(pending.status).toBe(1);
      expect(pending.stderr).toMatch(/not in the ambient mesh \(ambient.istio.io\/redirection: pending\)/);
      const both = runScript("sleep istio-proxy", "", "ambient", "enabled");
      expect(both.status).toBe(1);
      expect(both.stderr).toMatch(/has a sidecar in an ambient mesh/);
    });

    it("never prints the kubeconfig and leaves no copy of it behind", () => {
      const result = runScript("sleep");
      expect(`${result.stdout}${result.stderr}`).not.toContain("client-key-data");
      const leftovers = readdirSync(dir).filter((f) => f.startsWith("tmp."));
      expect(leftovers).toEqual([]);
    });

    it("is clean under shellcheck (POSIX sh)", () => {
      const shellcheck = requiredTool("shellcheck");
      const file = path.join(dir, "check.sh");
      writeFileSync(file, sidecarCheckScript());
      const result = spawnSync(shellcheck, ["--shell=sh", file], { encoding: "utf8" });
      expect(result.stdout).toBe("");
      expect(result.status).toBe(0);
      expect(existsSync(file)).toBe(true);
    });
  });
});

describe("on an ambient platform with Gateway API ingress", () => {
  const GATEWAY = {
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
  };
  let ambient: ConsumerRun;
  beforeAll(async () => {
    ambient = await evaluateConsumer(
      { platformStack: "my-org/istio-openstack/prod", hostname: "httpbin.shop.example.com" },
      platform({
        injectionLabel: { "istio.io/dataplane-mode": "ambient" },
        "mesh.dataplaneMode": "ambient",
        "mesh.gateway": GATEWAY,
      }),
    );
  });

  it("joins the ambient mesh, uses its own waypoint (the split is L7) and may attach routes", () => {
    const labels = (ambient.one(NAMESPACE).inputs.metadata as { labels: Record<string, string> }).labels;
    expect(labels).toEqual({
      "istio.io/dataplane-mode": "ambient",
      "istio.io/use-waypoint": "waypoint",
      "shared-gateway-access": "true",
    });
    expect(ambient.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "waypoint").inputs).toMatchObject({
      metadata: { name: "waypoint", namespace: "mesh-demo", labels: { "istio.io/rev": "prod-stable" } },
      spec: { gatewayClassName: "istio-waypoint" },
    });
  });

  it("publishes httpbin with an HTTPRoute on the platform's Gateway, by the parentRef the platform exports", () => {
    const route = ambient.one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "httpbin-route");
    expect(route.inputs.spec).toEqual({
      parentRefs: [GATEWAY.parentRef],
      hostnames: ["httpbin.shop.example.com"],
      rules: [{ backendRefs: [{ name: "httpbin", port: 8000 }] }],
    });
    expect(route.dependsOn).toEqual(["mesh-demo"]);
    expect(ambient.outputs.ingressHost).toBe("httpbin.shop.example.com");
  });

  it("checks the ambient redirection instead of a sidecar", () => {
    expect(ambient.one(COMMAND, "sidecar-check").inputs.environment).toMatchObject({ MODE: "ambient" });
  });

  it("a platform on contract v1 from before the data plane outputs reads as sidecar with the classic gateway", async () => {
    const older = await evaluateConsumer(
      { platformStack: "my-org/istio-openstack/dev" },
      platform({ "mesh.dataplaneMode": undefined, "mesh.revisionTag": undefined, "mesh.gateway": undefined }),
    );
    expect(older.ofType("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")).toEqual([]);
    expect(older.ofType("kubernetes:gateway.networking.k8s.io/v1:Gateway")).toEqual([]);
    expect(older.one(COMMAND, "sidecar-check").inputs.environment).toMatchObject({ MODE: "sidecar" });
  });
});

describe("the consumer's stack outputs", () => {
  // Type-only import: the root typecheck covers the example's entry point (tsconfig excludes examples/).
  const exported: (keyof typeof consumerProgram)[] = [
    "clusterName",
    "namespaceName",
    "split",
    "sidecarCheckResult",
    "ingressHost",
  ];

  it("exports the cluster, the namespace, the split, the check's result and where httpbin is published", () => {
    expect(Object.keys(run.outputs).sort()).toEqual([...exported].sort());
    expect(run.outputs).toMatchObject({ namespaceName: "mesh-demo", split: { v1: 90, v2: 10 }, ingressHost: null });
  });
});

describe("the consumer's configuration", () => {
  it("lists every problem at once", () => {
    expect(() =>
      parseConsumerConfig({
        namespace: "Mesh_Demo",
        canaryWeight: 120,
        faultInjection: { delay: { percent: 150, fixedDelay: "soon" } },
      }),
    ).toThrow(
      [
        "Invalid mesh-consumer configuration:",
        "  - platformStack: required (e.g. my-org/istio-openstack/dev)",
        '  - namespace: expected a DNS label (got "Mesh_Demo")',
        "  - canaryWeight: expected an integer 0-100 (got 120)",
        "  - faultInjection.delay.percent: expected 0-100",
        '  - faultInjection.delay.fixedDelay: expected a duration like 5s (got "soon")',
      ].join("\n"),
    );
  });
});
