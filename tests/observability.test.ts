// The observability layer's decisions, as a user relies on them: one scrape per metric, alerts that
// fire, credentials Kiali may use, links that work, dashboards that arrive or fail the deploy.

import { parse as parseYaml } from "yaml";
import { planRevisions } from "../components/mesh/revisions";
import { gatewayValues, istiodValues } from "../components/mesh/values";
import { prometheusValues } from "../components/observability/values";
import { ISTIO_NAMESPACE } from "../lib/istio";
import { chartData, helmMerge } from "./chartValues";
import { type DiscoveredTarget, keeps, type ScrapeJob, sdName } from "./scrapeTargets";

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

function endpoints(service: string, ports: string[]): DiscoveredTarget[] {
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
  const jobs = scrapeJobs(prometheusValues({ retention: "15d", storageSize: "10Gi" }));
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
    ...endpoints("istiod-1-31-1", ["grpc-xds", "https-dns", "https-webhook", "http-monitoring"]),
  ];

  it("metrics merging is on: the merged :15020 endpoint is the one Istio documents for annotation scraping", () => {
    const [revision] = planRevisions(["1.31.1"], { default: "1.31.1" }).revisions;
    const istiod = istiodValues(revision, {
      outboundTrafficPolicy: "ALLOW_ANY",
      holdApplicationUntilProxyStarts: true,
      istiodMinReplicas: 1,
      tracing: { name: "jaeger", service: "jaeger", port: 4317 },
    });
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
      prometheusValues({ retention: "15d", storageSize: "10Gi" }) as unknown as Values,
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
