/**
 * Helm values of the observability charts (Prometheus, Grafana, Kiali, Jaeger) as pure functions.
 * Every URL between them is explicit: nothing relies on a chart's guess of another's Service name.
 */
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { istioDashboards } from "../../lib/versions";

/** In-cluster addresses; Service names follow from the release names below. */
export const endpoints = {
  prometheus: `http://prometheus-server.${ISTIO_NAMESPACE}.svc:80`,
  grafana: `http://grafana.${ISTIO_NAMESPACE}.svc:80`,
  jaegerQueryGrpc: `http://jaeger.${ISTIO_NAMESPACE}.svc:16685`,
  /** OTLP/gRPC receiver the proxies send spans to (meshConfig.extensionProviders). */
  jaegerOtlp: { service: `jaeger.${ISTIO_NAMESPACE}.svc.cluster.local`, port: 4317 },
} as const;

/** Kiali's Service as the chart names it (release `kiali`). */
export const KIALI_SERVICE = { name: "kiali", port: 20001 } as const;

/** Local URLs after the port-forward commands exported as stack outputs. */
export const portForwards = {
  kiali: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/kiali 20001:20001`,
    url: "http://localhost:20001/kiali",
  },
  grafana: { command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/grafana 3000:80`, url: "http://localhost:3000" },
  jaeger: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/jaeger 16686:16686`,
    url: "http://localhost:16686",
  },
  prometheus: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/prometheus-server 9090:80`,
    url: "http://localhost:9090",
  },
} as const;

export const TRACING_PROVIDER = "jaeger";

export interface PrometheusSettings {
  readonly retention: string;
  readonly storageSize: string;
  readonly storageClass?: string;
}

export interface PrometheusValues {
  readonly server: {
    readonly retention: string;
    readonly persistentVolume: { readonly enabled: true; readonly size: string; readonly storageClass?: string };
    readonly extraFlags: readonly string[];
  };
  readonly configmapReload: { readonly prometheus: { readonly enabled: boolean } };
  readonly alertmanager: { readonly enabled: boolean };
  readonly "prometheus-pushgateway": { readonly enabled: boolean };
}

/**
 * Scraping: the chart's own `kubernetes-pods` job, and nothing Istio-specific on top. With metrics
 * merging (meshConfig.enablePrometheusMerge, on) every sidecar and gateway serves its Envoy and agent
 * metrics on :15020 under the prometheus.io annotations, and istiod's pods carry them too (its
 * chart's deployment template): Istio documents the `envoy-stats`/`istiod` jobs as the alternative
 * to that, not an addition (istio.io, Prometheus integration); both together count everything twice.
 *
 * The lifecycle API (POST /-/reload, /-/quit) stays off (the chart enables it for its reload
 * sidecar): Prometheus reloads its configuration and rule files itself when their checksum changes.
 */
export function prometheusValues(settings: PrometheusSettings): PrometheusValues {
  return {
    server: {
      retention: settings.retention,
      persistentVolume: {
        enabled: true,
        size: settings.storageSize,
        ...(settings.storageClass ? { storageClass: settings.storageClass } : {}),
      },
      extraFlags: ["enable-feature=auto-reload-config"],
    },
    configmapReload: { prometheus: { enabled: false } },
    alertmanager: { enabled: false },
    "prometheus-pushgateway": { enabled: false },
  };
}

export interface GrafanaValues {
  readonly admin: { readonly existingSecret: string; readonly userKey: string; readonly passwordKey: string };
  readonly datasources: Record<string, unknown>;
  readonly dashboardProviders: Record<string, unknown>;
  readonly dashboards: { readonly istio: Record<string, { gnetId: number; revision: number; datasource: string }> };
}

export const GRAFANA_ADMIN_SECRET = {
  name: "grafana-admin",
  userKey: "admin-user",
  passwordKey: "admin-password",
} as const;

export function grafanaValues(): GrafanaValues {
  return {
    admin: {
      existingSecret: GRAFANA_ADMIN_SECRET.name,
      userKey: GRAFANA_ADMIN_SECRET.userKey,
      passwordKey: GRAFANA_ADMIN_SECRET.passwordKey,
    },
    datasources: {
      "datasources.yaml": {
        apiVersion: 1,
        datasources: [
          {
            name: "Prometheus",
            uid: "prometheus",
            type: "prometheus",
            url: endpoints.prometheus,
            access: "proxy",
            isDefault: true,
          },
        ],
      },
    },
    dashboardProviders: {
      "dashboardproviders.yaml": {
        apiVersion: 1,
        providers: [
          {
            name: "istio",
            orgId: 1,
            folder: "Istio",
            type: "file",
            disableDeletion: true,
            options: { path: "/var/lib/grafana/dashboards/istio" },
          },
        ],
      },
    },
    dashboards: {
      istio: Object.fromEntries(
        Object.entries(istioDashboards).map(([name, d]) => [
          name,
          { gnetId: d.gnetId, revision: d.revision, datasource: "Prometheus" },
        ]),
      ),
    },
  };
}

export type KialiAuthStrategy = "token" | "anonymous";

export interface KialiValues {
  readonly auth: { readonly strategy: KialiAuthStrategy };
  readonly deployment: { readonly instance_name: string; readonly cluster_wide_access: boolean };
  readonly istio_namespace: string;
  readonly server: { readonly web_root: string };
  readonly external_services: {
    readonly istio: { readonly root_namespace: string };
    readonly prometheus: { readonly url: string };
    readonly grafana: { readonly enabled: boolean; readonly internal_url: string; readonly external_url: string };
    readonly tracing: {
      readonly enabled: boolean;
      readonly provider: "jaeger";
      readonly use_grpc: boolean;
      readonly internal_url: string;
      readonly external_url: string;
    };
  };
}

export function kialiValues(strategy: KialiAuthStrategy): KialiValues {
  return {
    auth: { strategy },
    deployment: { instance_name: "kiali", cluster_wide_access: true },
    istio_namespace: ISTIO_NAMESPACE,
    server: { web_root: "/kiali" },
    external_services: {
      istio: { root_namespace: ISTIO_NAMESPACE },
      prometheus: { url: endpoints.prometheus },
      grafana: { enabled: true, internal_url: endpoints.grafana, external_url: portForwards.grafana.url },
      tracing: {
        enabled: true,
        provider: "jaeger",
        use_grpc: true,
        internal_url: endpoints.jaegerQueryGrpc,
        external_url: portForwards.jaeger.url,
      },
    },
  };
}

export interface JaegerValues {
  readonly fullnameOverride: string;
  /** Jaeger v2 all-in-one (chart 4.x: the `jaeger` Deployment and Service). */
  readonly jaeger: { readonly enabled: boolean };
  /** No Cassandra/Elasticsearch/Kafka subcharts: traces stay in memory (a debugging aid, not an archive). */
  readonly provisionDataStore: {
    readonly cassandra: boolean;
    readonly elasticsearch: boolean;
    readonly kafka: boolean;
  };
  readonly storage: { readonly type: "memory" };
}

/** Jaeger v2 all-in-one with in-memory storage: one Service `jaeger` (OTLP 4317, query 16686/16685). */
export function jaegerValues(): JaegerValues {
  return {
    fullnameOverride: "jaeger",
    jaeger: { enabled: true },
    provisionDataStore: { cassandra: false, elasticsearch: false, kafka: false },
    storage: { type: "memory" },
  };
}
