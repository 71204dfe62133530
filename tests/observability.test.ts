// The observability layer's decisions, as a user relies on them: one scrape per metric, alerts that
// fire, credentials Kiali may use, links that work, dashboards that arrive or fail the deploy.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { planRevisions } from "../components/mesh/revisions";
import { gatewayValues, istiodValues } from "../components/mesh/values";
import { alertingRules, alertmanagerConfig } from "../components/observability/alerts";
import {
  endpoints,
  type grafanaValues,
  jaegerConfig,
  type jaegerValues,
  KIALI_GRAFANA_USER,
  kialiGrafanaPassword,
  type kialiValues,
  kialiViewerScript,
  MEMORY_MAX_TRACES,
  prometheusValues,
  SECRETS,
} from "../components/observability/values";
import { ISTIO_NAMESPACE } from "../lib/istio";
import { ConfigError } from "../stacks/errors";
import { parseStackConfig } from "../stacks/load";
import { chartData, helmMerge } from "./chartValues";
import { type Evaluation, evaluateStack, rawConfig } from "./harness";
import { type DiscoveredTarget, keeps, type ScrapeJob, sdName } from "./scrapeTargets";
import { prometheusTool, requiredTool } from "./validators";

type Values = Record<string, never>;

/** Every scrape job the prometheus chart renders from these values (templates/cm.yaml). */
function scrapeJobs(values: object): ScrapeJob[] {
  const merged = helmMerge(chartData("prometheus").defaults, values as Values) as unknown as {
    scrapeConfigs: Record<string, ScrapeJob & { enabled?: boolean }>;
    extraScrapeConfigs?: string;
  };
  return [
    ...Object.entries(merged.scrapeConfigs)
      .filter(([, job]) => job.enabled !== false)
      .map(([key, job]) => ({ ...job, job_name: job.job_name || key })),
    ...((parseYaml(merged.extraScrapeConfigs ?? "") as ScrapeJob[] | null) ?? []),
  ];
}

/** A pod as Kubernetes service discovery presents it: one target per container port. */
function pod(
  annotations: Record<string, string>,
  ports: string[],
  labels: Record<string, string> = {},
): DiscoveredTarget[] {
  const meta = {
    ...Object.fromEntries(
      Object.entries(annotations).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${sdName(k)}`, v]),
    ),
    ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${sdName(k)}`, v])),
    __meta_kubernetes_namespace: ISTIO_NAMESPACE,
    __meta_kubernetes_pod_phase: "Running",
  };
  return ports.map((port) => ({ role: "pod", labels: { ...meta, __meta_kubernetes_pod_container_port_name: port } }));
}

function serviceEndpoints(service: string, ports: string[]): DiscoveredTarget[] {
  return (["endpoints", "endpointslice"] as const).flatMap((role) =>
    ports.map((port) => ({
      role,
      labels: {
        __meta_kubernetes_namespace: ISTIO_NAMESPACE,
        __meta_kubernetes_service_name: service,
        __meta_kubernetes_endpoint_port_name: port,
        __meta_kubernetes_endpointslice_port_name: port,
      },
    })),
  );
}

describe("Prometheus: one scrape per Istio target", () => {
  const jobs = scrapeJobs(prometheusValues({ retention: "15d", storageSize: "10Gi", alertmanager: false }));
  const jobsKeeping = (targets: DiscoveredTarget[]) =>
    jobs.filter((job) => targets.some((t) => keeps(job, t))).map((j) => j.job_name);

  // Istio's sidecar injection annotates pods for the merged endpoint when enablePrometheusMerge is on
  // (istio-discovery files/injection-template.yaml); istio-proxy also declares :15090 http-envoy-prom.
  const sidecar = pod(
    { "prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus" },
    ["http", "http-envoy-prom"],
  );
  // istiod's deployment template annotates its pods (prometheus.io/scrape, port 15014); its Service
  // names the monitoring port http-monitoring (istio-discovery templates/deployment.yaml, service.yaml).
  const istiod = [
    ...pod(
      { "prometheus.io/scrape": "true", "prometheus.io/port": "15014" },
      ["grpc-xds", "https-dns", "http-monitoring"],
      {
        app: "istiod",
      },
    ),
    ...serviceEndpoints("istiod-1-31-1", ["grpc-xds", "https-dns", "https-webhook", "http-monitoring"]),
  ];

  it("metrics merging is on: the merged :15020 endpoint is the one Istio documents for annotation scraping", () => {
    const [revision] = planRevisions(["1.31.1"], { default: "1.31.1" }).revisions;
    const istiod = istiodValues(
      revision,
      {
        outboundTrafficPolicy: "ALLOW_ANY",
        holdApplicationUntilProxyStarts: true,
        istiodMinReplicas: 1,
        tracing: { name: "jaeger", service: "jaeger", port: 4317 },
      },
      { mode: "sidecar", cni: false },
    );
    expect(istiod.meshConfig.enablePrometheusMerge).toBe(true);
  });

  it("a sidecar, a gateway and istiod are each scraped by exactly one job", () => {
    const gateway = pod(
      gatewayValues({
        replicas: 1,
        maxReplicas: 1,
        podDisruptionBudget: false,
        resources: { requests: {}, limits: {} },
        serviceType: "LoadBalancer",
        proxyProtocol: false,
        sourceRanges: [],
        annotations: {},
        tag: "default",
      }).podAnnotations,
      ["http-envoy-prom", "http2", "https"],
    );
    expect(jobsKeeping(sidecar)).toEqual(["kubernetes-pods"]);
    expect(jobsKeeping(gateway)).toEqual(["kubernetes-pods"]);
    expect(jobsKeeping(istiod)).toEqual(["kubernetes-pods"]);
  });

  it("the evaluator sees a second job when there is one (not a rubber stamp)", () => {
    const envoyStats: ScrapeJob = {
      job_name: "envoy-stats",
      kubernetes_sd_configs: [{ role: "pod" }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_pod_container_port_name"], action: "keep", regex: ".*-envoy-prom" },
      ],
    };
    expect(
      jobs
        .concat(envoyStats)
        .filter((job) => sidecar.some((t) => keeps(job, t)))
        .map((j) => j.job_name),
    ).toEqual(["kubernetes-pods", "envoy-stats"]);
  });

  it("the lifecycle API is off and Prometheus reloads its files itself", () => {
    const values = helmMerge(
      chartData("prometheus").defaults,
      prometheusValues({ retention: "15d", storageSize: "10Gi", alertmanager: false }) as unknown as Values,
    ) as unknown as {
      server: { extraFlags: string[] };
      configmapReload: { prometheus: { enabled: boolean } };
    };
    expect(values.server.extraFlags).not.toContain("web.enable-lifecycle");
    expect(values.server.extraFlags).not.toContain("web.enable-admin-api");
    expect(values.server.extraFlags).toContain("enable-feature=auto-reload-config");
    // The chart's reload sidecar only works through the lifecycle endpoint.
    expect(values.configmapReload.prometheus.enabled).toBe(false);
  });
});

/** The committed dev stack, evaluated once for every test that reads it. */
let devRun: Promise<Evaluation> | undefined;
const devOnce = () => {
  devRun ??= evaluateStack("dev");
  return devRun;
};

const ofRelease = (run: Evaluation, release: string) =>
  run.one("kubernetes:helm.sh/v3:Release", `mesh-${run.config.stack}-${release}`).inputs.values as Record<
    string,
    never
  >;
const secretNamed = (run: Evaluation, name: string) => {
  const found = run
    .ofType("kubernetes:core/v1:Secret")
    .find((s) => (s.inputs.metadata as { name: string }).name === name);
  if (!found) throw new Error(`no Secret ${name}`);
  return found;
};
const EXISTING = {
  clusterMode: "existing",
  existingKubeconfig: "apiVersion: v1\nkind: Config\n",
  keystoneUrl: undefined,
};

describe("Kiali's credentials: a read-only Grafana user, a stable signing key, view-only", () => {
  let dev: Evaluation;
  beforeAll(async () => {
    dev = await devOnce();
  });

  it("Kiali logs in to Grafana as a Viewer whose password only reaches Grafana and Kiali through a Secret", () => {
    const kiali = ofRelease(dev, "kiali") as unknown as ReturnType<typeof kialiValues>;
    const grafana = ofRelease(dev, "grafana") as unknown as ReturnType<typeof grafanaValues>;
    const secret = secretNamed(dev, SECRETS.kialiGrafana.name);
    expect(secret.secretInputs).toContain("stringData");
    const password = (secret.inputs.stringData as Record<string, string>)[SECRETS.kialiGrafana.key];
    expect(password.length).toBeGreaterThanOrEqual(40);
    // Kiali: basic auth, the password read from that Secret (mounted by the chart), never in values.
    expect(kiali.external_services.grafana.auth).toEqual({
      type: "basic",
      username: KIALI_GRAFANA_USER,
      password: `secret:${SECRETS.kialiGrafana.name}:${SECRETS.kialiGrafana.key}`,
    });
    expect(JSON.stringify(kiali)).not.toContain(password);
    expect(JSON.stringify(grafana)).not.toContain(password);
    // Grafana: the same Secret in the container's environment, no anonymous access, new users Viewers.
    expect(grafana.envValueFrom.KIALI_GRAFANA_PASSWORD).toEqual({
      secretKeyRef: { name: SECRETS.kialiGrafana.name, key: SECRETS.kialiGrafana.key },
    });
    expect(grafana["grafana.ini"]["auth.anonymous"]).toEqual({ enabled: false });
    expect(grafana["grafana.ini"].users).toMatchObject({ allow_sign_up: false, auto_assign_org_role: "Viewer" });
    const script = grafana.lifecycleHooks.postStart.exec.command.at(-1) ?? "";
    expect(script).toContain(`"login":"${KIALI_GRAFANA_USER}"`);
    expect(script).toContain('{"role":"Viewer"}');
  });

  it("the viewer password is derived from the admin password, which it does not reveal", () => {
    const admin = (secretNamed(dev, SECRETS.grafanaAdmin.name).inputs.stringData as Record<string, string>)[
      SECRETS.grafanaAdmin.passwordKey
    ];
    const viewer = (secretNamed(dev, SECRETS.kialiGrafana.name).inputs.stringData as Record<string, string>)[
      SECRETS.kialiGrafana.key
    ];
    expect(viewer).toBe(kialiGrafanaPassword(admin));
    expect(viewer).not.toContain(admin);
    expect(kialiGrafanaPassword(`${admin}x`)).not.toBe(viewer);
  });

  it("Grafana's user-creation hook is valid POSIX shell (shellcheck) and exits non-zero on failure", () => {
    const script = kialiViewerScript();
    const result = spawnSync(requiredTool("shellcheck"), ["-s", "sh", "-"], { input: script, encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(script.split("\n")[0]).toBe("set -eu");
    expect(script).toMatch(/exit 1/);
  });

  it("Kiali signs sessions with a key from a Secret, not one the chart makes up at every upgrade", () => {
    const kiali = ofRelease(dev, "kiali") as unknown as ReturnType<typeof kialiValues>;
    expect(kiali.login_token.signing_key).toBe(`secret:${SECRETS.kialiSigningKey.name}:${SECRETS.kialiSigningKey.key}`);
    const key = (secretNamed(dev, SECRETS.kialiSigningKey.name).inputs.stringData as Record<string, string>)[
      SECRETS.kialiSigningKey.key
    ];
    // Kiali accepts 16, 24 or 32 bytes (config.go validateSigningKey).
    expect([16, 24, 32]).toContain(Buffer.byteLength(key));
    expect(secretNamed(dev, SECRETS.kialiSigningKey.name).secretInputs).toContain("stringData");
  });

  it("Kiali is view-only unless kialiViewOnly is false", async () => {
    expect((ofRelease(dev, "kiali") as unknown as ReturnType<typeof kialiValues>).deployment.view_only_mode).toBe(true);
    const editable = await evaluateStack("dev", { kialiViewOnly: false });
    expect((ofRelease(editable, "kiali") as unknown as ReturnType<typeof kialiValues>).deployment.view_only_mode).toBe(
      false,
    );
  });

  it("given as secret config, the keys are used as given and no @pulumi/random resource is created (existing cluster)", async () => {
    const run = await evaluateStack(
      "dev",
      {
        ...EXISTING,
        grafanaAdminPassword: "correct-horse-battery-staple",
        kialiSigningKey: "0123456789abcdef0123456789abcdef",
      },
      { secretKeys: ["existingKubeconfig", "grafanaAdminPassword", "kialiSigningKey"] },
    );
    expect(run.resources.filter((r) => r.type.startsWith("random:")).map((r) => r.name)).toEqual([]);
    expect(
      (secretNamed(run, SECRETS.kialiSigningKey.name).inputs.stringData as Record<string, string>)[
        SECRETS.kialiSigningKey.key
      ],
    ).toBe("0123456789abcdef0123456789abcdef");
    expect(
      (secretNamed(run, SECRETS.grafanaAdmin.name).inputs.stringData as Record<string, string>)[
        SECRETS.grafanaAdmin.passwordKey
      ],
    ).toBe("correct-horse-battery-staple");
  });

  it("a wrong signing key or a plain-text password is refused, naming the key and never printing the value", () => {
    let message = "";
    try {
      parseStackConfig(
        rawConfig("dev", { kialiSigningKey: "twenty-chars-long!!!", grafanaAdminPassword: "short-and-plain" }, [
          "kialiSigningKey",
        ]),
        "dev",
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toMatch(/kialiSigningKey: must be exactly 16, 24 or 32 bytes long/);
    expect(message).toMatch(/grafanaAdminPassword: must be set as a secret/);
    expect(message).not.toContain("twenty-chars-long");
    expect(message).not.toContain("short-and-plain");
  });
});

describe("links that work for whoever opens Kiali", () => {
  it("without kialiHost: Kiali links to the port-forward URLs the stack outputs name", async () => {
    const run = await devOnce();
    const kiali = ofRelease(run, "kiali") as unknown as ReturnType<typeof kialiValues>;
    const outputs = run.outputs.observability as { grafana: { url: string }; tracing: { url: string } };
    expect(kiali.external_services.grafana.external_url).toBe(outputs.grafana.url);
    expect(kiali.external_services.tracing.external_url).toBe(outputs.tracing.url);
    const grafana = ofRelease(run, "grafana") as unknown as ReturnType<typeof grafanaValues>;
    expect(grafana["grafana.ini"].server.root_url).toBe(`${outputs.grafana.url}/`);
  });

  it("with kialiHost: Grafana is published on the same host under /grafana (TLS, its own login); the unauthenticated Jaeger UI is not", async () => {
    const run = await evaluateStack("prod", { kialiHost: "mesh.example.com", kialiTlsSecret: "mesh-tls" });
    const kiali = ofRelease(run, "kiali") as unknown as ReturnType<typeof kialiValues>;
    const grafana = ofRelease(run, "grafana") as unknown as ReturnType<typeof grafanaValues>;
    expect(kiali.external_services.grafana.external_url).toBe("https://mesh.example.com/grafana");
    expect(grafana["grafana.ini"].server).toEqual({
      root_url: "https://mesh.example.com/grafana/",
      serve_from_sub_path: true,
    });
    expect(grafana["grafana.ini"].security).toMatchObject({ cookie_secure: true });
    // No dead localhost link: Kiali shows traces itself, Grafana browses them behind its login.
    expect(kiali.external_services.tracing.external_url).toBe("");
    const datasources = (grafana.datasources["datasources.yaml"] as { datasources: { type: string; url: string }[] })
      .datasources;
    expect(datasources.map((d) => d.type)).toEqual(["prometheus", "jaeger"]);

    const service = run.ofType("kubernetes:networking.istio.io/v1:VirtualService")[0];
    const http = (service.inputs.spec as { http: { match?: unknown; route: { destination: unknown }[] }[] }).http;
    expect(http.map((h) => [h.match ?? null, h.route[0].destination])).toEqual([
      [[{ uri: { prefix: "/grafana" } }], { host: "grafana.istio-system.svc.cluster.local", port: { number: 80 } }],
      [null, { host: "kiali.istio-system.svc.cluster.local", port: { number: 20001 } }],
    ]);
    const gateway = run.ofType("kubernetes:networking.istio.io/v1:Gateway")[0];
    expect(gateway.inputs.spec).toMatchObject({
      servers: [{ port: { number: 443, protocol: "HTTPS" }, tls: { mode: "SIMPLE", credentialName: "mesh-tls" } }, {}],
    });
    expect(run.outputs.observability).toMatchObject({
      kiali: { externalUrl: "https://mesh.example.com/kiali" },
      grafana: { externalUrl: "https://mesh.example.com/grafana" },
    });
  });
});

describe("Istio dashboards arrive, match the Istio version, or fail the deploy", () => {
  const dashboards = (run: Evaluation) => ofRelease(run, "grafana") as unknown as ReturnType<typeof grafanaValues>;

  it("downloaded from the Istio release in use, every download able to fail the init container", async () => {
    const run = await devOnce();
    const grafana = dashboards(run);
    const version = run.config.istioRevisions.at(-1);
    const entries = Object.values(grafana.dashboards.istio);
    expect(entries.length).toBe(7);
    for (const entry of entries) {
      expect(
        entry.url.startsWith(`https://raw.githubusercontent.com/istio/istio/${version}/manifests/addons/dashboards/`),
      ).toBe(true);
      // The chart pipes curl into sed (masking its failure: no pipefail) only for these keys.
      expect(Object.keys(entry)).toEqual(["url"]);
    }
    const options = grafana.defaultCurlOptions.split(/\s+/);
    expect(options.some((o) => /^-[a-zA-Z]*f/.test(o))).toBe(true);
    expect(options.some((o) => /^-[a-zA-Z]*k/.test(o) || o === "--insecure")).toBe(false);
  });

  it("a canary takes the dashboards of its newest Istio; an air-gapped cloud points at its mirror", async () => {
    const canary = await evaluateStack("dev", {
      istioRevisions: ["1.31.1", "1.32.0"],
      istioRevisionTags: { default: "1.31.1", "prod-stable": "1.31.1" },
    });
    for (const entry of Object.values(dashboards(canary).dashboards.istio))
      expect(entry.url).toContain("/istio/1.32.0/");
    const mirrored = await evaluateStack("dev", {
      grafanaDashboardsUrl: "https://mirror.example.com/istio/dashboards/",
    });
    expect(Object.values(dashboards(mirrored).dashboards.istio).map((e) => e.url)).toContain(
      "https://mirror.example.com/istio/dashboards/istio-mesh-dashboard.gen.json",
    );
    expect(() => parseStackConfig(rawConfig("dev", { grafanaDashboardsUrl: "ftp://mirror" }), "dev")).toThrow(
      /grafanaDashboardsUrl: expected an http\(s\) URL/,
    );
  });
});

describe("Jaeger keeps the traces it is configured to keep", () => {
  const jaegerOf = (run: Evaluation) => ofRelease(run, "jaeger") as unknown as ReturnType<typeof jaegerValues>;
  type Config = {
    extensions: { jaeger_storage: { backends: Record<string, Record<string, unknown>> }; healthcheckv2: unknown };
    receivers: { otlp: { protocols: { grpc: { endpoint: string } } } };
    exporters: { jaeger_storage_exporter: { trace_storage: string } };
  };

  it("prod: Badger on a Cinder volume of jaegerStorageSize, kept across restarts for jaegerRetention", async () => {
    const run = await evaluateStack("prod", { jaegerStorageSize: "30Gi", jaegerRetention: "96h" });
    const values = jaegerOf(run);
    const config = values.userconfig as unknown as Config;
    const store = config.extensions.jaeger_storage.backends[config.exporters.jaeger_storage_exporter.trace_storage];
    expect(store).toEqual({
      badger: {
        directories: { keys: "/badger/keys", values: "/badger/values" },
        ephemeral: false,
        ttl: { spans: "96h" },
      },
    });
    const claim = run.ofType("kubernetes:core/v1:PersistentVolumeClaim")[0];
    expect(claim.inputs).toMatchObject({
      metadata: { name: "jaeger-traces", namespace: ISTIO_NAMESPACE },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "30Gi" } } },
    });
    expect(values.jaeger.extraVolumes).toEqual([
      { name: "traces", persistentVolumeClaim: { claimName: "jaeger-traces" } },
    ]);
    expect(values.jaeger.extraVolumeMounts).toEqual([{ name: "traces", mountPath: "/badger" }]);
    const release = run.one("kubernetes:helm.sh/v3:Release", "mesh-prod-jaeger");
    expect(release.dependsOn).toContain(claim.key);
  });

  it("dev: memory, bounded, with resource limits; no volume", async () => {
    const run = await devOnce();
    const values = jaegerOf(run);
    const config = values.userconfig as unknown as Config;
    expect(Object.values(config.extensions.jaeger_storage.backends)).toEqual([
      { memory: { max_traces: MEMORY_MAX_TRACES } },
    ]);
    expect(values.jaeger.resources.limits).toEqual({ cpu: "1", memory: "1Gi" });
    expect(run.ofType("kubernetes:core/v1:PersistentVolumeClaim")).toEqual([]);
  });

  it("listens where the mesh sends spans and the chart's probes look", () => {
    const config = jaegerConfig({ type: "memory" }) as unknown as Config;
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe(`0.0.0.0:${endpoints.jaegerOtlp.port}`);
    // The chart's liveness/readiness probes: GET /status on :13133 (templates/jaeger/jaeger-deploy.yaml).
    expect(config.extensions.healthcheckv2).toEqual({ use_v2: true, http: { endpoint: "0.0.0.0:13133" } });
  });
});

describe("alerts for the mesh's golden signals and its control plane", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "alerts-"));
  const rules = path.join(dir, "alerting_rules.yml");
  writeFileSync(
    rules,
    toYaml(
      prometheusValues({ retention: "15d", storageSize: "10Gi", alertmanager: false }).serverFiles[
        "alerting_rules.yml"
      ],
    ),
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const promtool = (...args: string[]) => spawnSync(prometheusTool("promtool"), args, { cwd: dir, encoding: "utf8" });
  const description = (alert: string) =>
    alertingRules()
      .groups.flatMap((g) => g.rules)
      .find((r) => r.alert === alert)?.annotations.description;

  interface Case {
    readonly alert: string;
    readonly series: readonly { series: string; values: string }[];
    readonly evalTime: string;
    /** Expected firing alerts: their labels (besides alertname) and rendered summary. */
    readonly fires: readonly { labels: Record<string, string>; summary: string }[];
  }
  const svc = (name: string, code: string) =>
    `istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service="${name}.shop.svc.cluster.local",response_code="${code}"}`;

  const cases: Case[] = [
    {
      alert: "IstioServiceHigh5xxRate",
      // reviews: 10% of 10 rps fail; ratings: 2% fail; quiet: half of 2 requests a minute fail (too few).
      series: [
        { series: svc("reviews", "200"), values: "0+540x20" },
        { series: svc("reviews", "503"), values: "0+60x20" },
        { series: svc("ratings", "200"), values: "0+588x20" },
        { series: svc("ratings", "500"), values: "0+12x20" },
        { series: svc("quiet", "200"), values: "0+1x20" },
        { series: svc("quiet", "500"), values: "0+1x20" },
      ],
      evalTime: "15m",
      fires: [
        {
          labels: {
            severity: "critical",
            destination_service_namespace: "shop",
            destination_service: "reviews.shop.svc.cluster.local",
          },
          summary: "reviews.shop.svc.cluster.local answers 10% of requests with 5xx",
        },
      ],
    },
    {
      alert: "IstiodXdsPushErrors",
      series: [
        { series: 'pilot_xds_pushes{namespace="istio-system",pod="istiod-a",type="cds_senderr"}', values: "0+3x20" },
      ],
      evalTime: "15m",
      fires: [
        {
          labels: { severity: "warning", namespace: "istio-system", pod: "istiod-a", type: "cds_senderr" },
          summary: "istiod-a fails to send cds_senderr to proxies",
        },
      ],
    },
    {
      alert: "IstioXdsRejected",
      series: [{ series: 'pilot_total_xds_rejects{type="lds"}', values: "0+2x20" }],
      evalTime: "15m",
      fires: [
        { labels: { severity: "warning", type: "lds" }, summary: "Proxies reject lds configuration from istiod" },
      ],
    },
    {
      alert: "IstiodDown",
      series: [
        {
          series: 'up{job="kubernetes-pods",app="istiod",namespace="istio-system",pod="istiod-a"}',
          values: "1 1 0x20",
        },
      ],
      evalTime: "15m",
      fires: [{ labels: { severity: "critical" }, summary: "No istiod is scraped and up" }],
    },
    {
      alert: "IstioRootCertificateExpiresSoon",
      // Expires 10 days after the test's epoch.
      series: [
        {
          series: 'citadel_server_root_cert_expiry_timestamp{namespace="istio-system",pod="istiod-a"}',
          values: "864000x20",
        },
      ],
      evalTime: "5m",
      fires: [
        {
          labels: { severity: "critical", namespace: "istio-system", pod: "istiod-a" },
          summary: "The mesh's root certificate expires in 9d 23h 55m 0s",
        },
      ],
    },
    {
      alert: "IstioWorkloadCertificateExpiresSoon",
      series: [
        {
          series: 'istio_agent_cert_expiry_seconds{namespace="shop",pod="reviews-1",resource_name="default"}',
          values: "3000-60x20",
        },
        {
          series: 'istio_agent_cert_expiry_seconds{namespace="shop",pod="ratings-1",resource_name="default"}',
          values: "40000x20",
        },
      ],
      evalTime: "10m",
      fires: [
        {
          labels: { severity: "warning", namespace: "shop", pod: "reviews-1" },
          summary: "shop/reviews-1's workload certificate expires in 40m 0s",
        },
      ],
    },
    {
      alert: "PrometheusTargetDown",
      series: [
        { series: 'up{job="kubernetes-pods",instance="10.0.0.7:15020"}', values: "0x20" },
        { series: 'up{job="kubernetes-pods",instance="10.0.0.8:15020"}', values: "1x20" },
      ],
      evalTime: "15m",
      fires: [
        {
          labels: { severity: "warning", job: "kubernetes-pods", instance: "10.0.0.7:15020" },
          summary: "kubernetes-pods target 10.0.0.7:15020 is down",
        },
      ],
    },
  ];

  it("the rule file is valid for the real promtool", () => {
    const result = promtool("check", "rules", rules);
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.status).toBe(0);
  });

  it("every rule fires on the series it watches, and only there (promtool test rules)", () => {
    const names = alertingRules().groups.flatMap((g) => g.rules.map((r) => r.alert));
    // Every rule is exercised (latency, injection and internal errors below with their own series).
    const extra: Case[] = [
      {
        alert: "IstioServiceHighLatency",
        series: [
          {
            series:
              'istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service="slow.shop.svc.cluster.local",le="500"}',
            values: "0+1x30",
          },
          {
            series:
              'istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service="slow.shop.svc.cluster.local",le="5000"}',
            values: "0+100x30",
          },
          {
            series:
              'istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service="slow.shop.svc.cluster.local",le="+Inf"}',
            values: "0+100x30",
          },
        ],
        evalTime: "20m",
        fires: [
          {
            labels: {
              severity: "warning",
              destination_service_namespace: "shop",
              destination_service: "slow.shop.svc.cluster.local",
            },
            summary: "slow.shop.svc.cluster.local p99 latency is 4.955k ms",
          },
        ],
      },
      {
        alert: "IstioSidecarInjectionFailures",
        series: [{ series: 'sidecar_injection_failure_total{pod="istiod-a"}', values: "0+1x20" }],
        evalTime: "15m",
        fires: [{ labels: { severity: "warning" }, summary: "Sidecar injection fails" }],
      },
      {
        alert: "IstiodInternalErrors",
        series: [
          { series: 'pilot_total_xds_internal_errors{namespace="istio-system",pod="istiod-a"}', values: "0+1x20" },
        ],
        evalTime: "15m",
        fires: [
          {
            labels: { severity: "warning", namespace: "istio-system", pod: "istiod-a" },
            summary: "istiod-a reports internal xDS errors",
          },
        ],
      },
    ];
    const all = [...cases, ...extra];
    expect([...new Set(all.map((c) => c.alert))].sort()).toEqual([...names].sort());
    const tests = {
      rule_files: [path.basename(rules)],
      evaluation_interval: "1m",
      tests: all.map((c) => ({
        interval: "1m",
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.evalTime,
            alertname: c.alert,
            exp_alerts: c.fires.map((f) => ({
              exp_labels: f.labels,
              exp_annotations: { summary: f.summary, description: description(c.alert) },
            })),
          },
        ],
      })),
    };
    writeFileSync(path.join(dir, "tests.yml"), toYaml(tests));
    const result = promtool("test", "rules", "tests.yml");
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });
});

describe("Alertmanager, with the stack's receiver kept secret", () => {
  const receiver = { webhook_configs: [{ url: "https://alerts.example.com/hook/t0ken" }] };

  it("installed only with a receiver; its whole configuration in a Secret the pod mounts, reloaded on change", async () => {
    const without = await evaluateStack("staging");
    expect(
      (ofRelease(without, "prometheus") as unknown as { alertmanager: { enabled: boolean } }).alertmanager,
    ).toEqual({
      enabled: false,
    });
    const run = await evaluateStack(
      "staging",
      { alertmanagerReceiver: receiver },
      { secretKeys: ["alertmanagerReceiver"] },
    );
    const values = ofRelease(run, "prometheus") as unknown as { alertmanager: Record<string, never> };
    expect(values.alertmanager).toMatchObject({ enabled: true, config: { enabled: false } });
    expect(JSON.stringify(values)).not.toContain("t0ken");
    const secret = secretNamed(run, SECRETS.alertmanager.name);
    expect(secret.secretInputs).toContain("stringData");
    const config = parseYaml((secret.inputs.stringData as Record<string, string>)[SECRETS.alertmanager.key]) as {
      route: { receiver: string };
      receivers: { name: string }[];
    };
    expect(config.receivers).toEqual([{ name: config.route.receiver, ...receiver }]);
    expect(run.one("kubernetes:helm.sh/v3:Release", "mesh-staging-prometheus").dependsOn).toContain(secret.key);
  });

  it("the rendered alertmanager.yml is valid for the real amtool, and amtool refuses a misspelt field", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alertmanager-"));
    try {
      const check = (config: unknown) => {
        writeFileSync(path.join(dir, "alertmanager.yml"), toYaml(config));
        return spawnSync(prometheusTool("amtool"), ["check-config", "alertmanager.yml"], {
          cwd: dir,
          encoding: "utf8",
        });
      };
      const good = check(alertmanagerConfig(receiver));
      expect(good.stdout + good.stderr).toMatch(/SUCCESS/);
      expect(good.status).toBe(0);
      const bad = check(alertmanagerConfig({ webhook_configs: [{ urll: "https://alerts.example.com" }] }));
      expect(bad.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a receiver without a known integration, or set in plain text, is refused", () => {
    expect(() =>
      parseStackConfig(
        rawConfig("dev", { alertmanagerReceiver: { webhooks: [{ url: "x" }] } }, ["alertmanagerReceiver"]),
        "dev",
      ),
    ).toThrow(/alertmanagerReceiver/);
    expect(() => parseStackConfig(rawConfig("dev", { alertmanagerReceiver: receiver }), "dev")).toThrow(
      /alertmanagerReceiver: must be set as a secret/,
    );
  });
});
