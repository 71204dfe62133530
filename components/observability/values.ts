/**
 * Helm values of the observability charts (Prometheus, Grafana, Kiali, Jaeger) as pure functions.
 * Every URL between them is explicit: nothing relies on a chart's guess of another's Service name.
 */
import { createHmac } from "node:crypto";
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { istioDashboards } from "../../lib/versions";
import { alertingRules } from "./alerts";

/** Grafana serves from this sub-path, locally and behind the ingress gateway (grafana.ini serve_from_sub_path). */
export const GRAFANA_PATH = "/grafana";

/** In-cluster addresses; Service names follow from the release names below. */
export const endpoints = {
  prometheus: `http://prometheus-server.${ISTIO_NAMESPACE}.svc:80`,
  grafana: `http://grafana.${ISTIO_NAMESPACE}.svc:80${GRAFANA_PATH}`,
  jaegerQueryHttp: `http://jaeger.${ISTIO_NAMESPACE}.svc:16686`,
  jaegerQueryGrpc: `http://jaeger.${ISTIO_NAMESPACE}.svc:16685`,
  /** OTLP/gRPC receiver the proxies send spans to (meshConfig.extensionProviders). */
  jaegerOtlp: { service: `jaeger.${ISTIO_NAMESPACE}.svc.cluster.local`, port: 4317 },
} as const;

/** Services the ingress gateway routes to when the UIs are published (kialiHost). */
export const KIALI_SERVICE = { name: "kiali", port: 20001 } as const;
export const GRAFANA_SERVICE = { name: "grafana", port: 80 } as const;

/** Local URLs after the port-forward commands exported as stack outputs. */
export const portForwards = {
  kiali: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/kiali 20001:20001`,
    url: "http://localhost:20001/kiali",
  },
  grafana: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/grafana 3000:80`,
    url: `http://localhost:3000${GRAFANA_PATH}`,
  },
  jaeger: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/jaeger 16686:16686`,
    url: "http://localhost:16686",
  },
  prometheus: {
    command: `kubectl -n ${ISTIO_NAMESPACE} port-forward svc/prometheus-server 9090:80`,
    url: "http://localhost:9090",
  },
} as const;

/**
 * Where a browser reaches each UI. With a public host (kialiHost), Kiali and Grafana are served
 * through the ingress gateway over TLS on that one host; the Jaeger UI is not published (it has no
 * authentication of its own: jaegertracing/jaeger#1718), Kiali shows traces itself and Grafana
 * browses them behind its login. Without one, the port-forward URLs.
 */
export interface PublicUrls {
  readonly kiali?: string;
  readonly grafana: string;
  /** Empty when the tracing UI is not reachable from a browser: Kiali then shows no dead links. */
  readonly tracing: string;
}

export function publicUrls(publicHost?: string): PublicUrls {
  if (!publicHost) return { grafana: portForwards.grafana.url, tracing: portForwards.jaeger.url };
  return { kiali: `https://${publicHost}/kiali`, grafana: `https://${publicHost}${GRAFANA_PATH}`, tracing: "" };
}

/** What the ingress gateway routes on the public host, most specific first. */
export function publicRoutes(): { pathPrefix: string; service: string; port: number }[] {
  const fqdn = (name: string) => `${name}.${ISTIO_NAMESPACE}.svc.cluster.local`;
  return [
    { pathPrefix: GRAFANA_PATH, service: fqdn(GRAFANA_SERVICE.name), port: GRAFANA_SERVICE.port },
    { pathPrefix: "/", service: fqdn(KIALI_SERVICE.name), port: KIALI_SERVICE.port },
  ];
}

/** Secrets the program creates in istio-system; the charts read them by these names. */
export const SECRETS = {
  grafanaAdmin: { name: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
  /** Kiali's read-only Grafana credential: read by Grafana (to create the user) and by Kiali. */
  kialiGrafana: { name: "kiali-grafana-viewer", key: "password" },
  kialiSigningKey: { name: "kiali-login-signing-key", key: "key" },
  /** alertmanager.yml with the stack's receiver (it may hold credentials). */
  alertmanager: { name: "alertmanager-config", key: "alertmanager.yml" },
} as const;

/** The Grafana user Kiali searches dashboards with: a Viewer in Grafana's main organisation. */
export const KIALI_GRAFANA_USER = "kiali";

/**
 * Kiali's Grafana password, derived from the admin password (HMAC-SHA256): a secret of its own
 * without a second generated value, rotated with the admin password, and the admin password cannot
 * be computed from it.
 */
export function kialiGrafanaPassword(adminPassword: string): string {
  return createHmac("sha256", adminPassword).update("kiali-grafana-viewer").digest("base64url");
}

export const TRACING_PROVIDER = "jaeger";

export interface PrometheusSettings {
  readonly retention: string;
  readonly storageSize: string;
  readonly storageClass?: string;
  /** Alertmanager, when the stack names a receiver; its configuration is in the Secret SECRETS.alertmanager. */
  readonly alertmanager: boolean;
}

/** Where Alertmanager finds its configuration: the Secret, mounted (the chart's own ConfigMap is off). */
const ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager-secret";

/** The alertmanager subchart's values (prometheus-community alertmanager chart 1.42). */
function alertmanagerValues(): { enabled: boolean } & Record<string, unknown> {
  const mount = { name: "alertmanager-config", mountPath: ALERTMANAGER_CONFIG_DIR, readOnly: true };
  return {
    enabled: true,
    config: { enabled: false },
    extraSecretMounts: [{ ...mount, secretName: SECRETS.alertmanager.name, subPath: "" }],
    extraArgs: { "config.file": `${ALERTMANAGER_CONFIG_DIR}/${SECRETS.alertmanager.key}` },
    // Its reloader watches the mounted Secret and calls Alertmanager's reload endpoint on change.
    configmapReload: {
      enabled: true,
      extraArgs: { "watched-dir": ALERTMANAGER_CONFIG_DIR },
      extraVolumeMounts: [mount],
    },
  };
}

export interface PrometheusValues {
  readonly server: {
    readonly retention: string;
    readonly persistentVolume: { readonly enabled: true; readonly size: string; readonly storageClass?: string };
    readonly extraFlags: readonly string[];
  };
  readonly configmapReload: { readonly prometheus: { readonly enabled: boolean } };
  readonly alertmanager: { readonly enabled: boolean } & Record<string, unknown>;
  readonly "prometheus-pushgateway": { readonly enabled: boolean };
  readonly serverFiles: { readonly "alerting_rules.yml": ReturnType<typeof alertingRules> };
  readonly "prometheus-node-exporter": { readonly enabled: boolean };
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
    alertmanager: settings.alertmanager ? alertmanagerValues() : { enabled: false },
    "prometheus-pushgateway": { enabled: false },
    serverFiles: { "alerting_rules.yml": alertingRules() },
    // Its DaemonSet runs with the host's network and PID namespaces and host paths, which Pod
    // Security baseline refuses in istio-system; no Istio dashboard or Kiali view reads node metrics.
    "prometheus-node-exporter": { enabled: false },
  };
}

export interface GrafanaSettings {
  /** kialiHost: Grafana is served there under /grafana; unset: through the port-forward. */
  readonly publicHost?: string;
  /** The folder the Istio dashboards are downloaded from: Istio's own for the version in use, or a mirror. */
  readonly dashboardsUrl: string;
}

/**
 * How Grafana's init container fetches each dashboard. The chart's script runs `set -euf` without
 * pipefail and pipes curl into sed only for `datasource`, `title` or `b64content` (grafana chart,
 * templates/_config.tpl): none of them is set, so a failed download (-f: HTTP errors too) fails the
 * init container, the pod never starts and Helm's wait fails the release instead of leaving empty
 * dashboards. No -k: the download's TLS is verified (the chart's default skips it).
 */
export const DASHBOARD_CURL_OPTIONS = "-sSfL --retry 5 --retry-delay 2";

export interface GrafanaValues {
  readonly admin: { readonly existingSecret: string; readonly userKey: string; readonly passwordKey: string };
  readonly "grafana.ini": Record<string, Record<string, string | boolean>>;
  readonly envValueFrom: Record<string, { readonly secretKeyRef: { readonly name: string; readonly key: string } }>;
  readonly lifecycleHooks: { readonly postStart: { readonly exec: { readonly command: readonly string[] } } };
  readonly datasources: Record<string, unknown>;
  readonly dashboardProviders: Record<string, unknown>;
  readonly defaultCurlOptions: string;
  readonly dashboards: { readonly istio: Record<string, { readonly url: string }> };
}

/**
 * The postStart hook of the Grafana container: once Grafana answers on localhost, make sure the user
 * Kiali logs in with exists, has the password of the Secret, and is a Viewer (Grafana's admin API,
 * with the admin credentials the chart already gives the container). Bounded: if Grafana does not
 * answer or refuses, the hook fails, the container restarts and Helm's wait fails the release.
 */
export function kialiViewerScript(): string {
  const base = `http://127.0.0.1:3000${GRAFANA_PATH}`;
  const json = "-H 'Content-Type: application/json'";
  return [
    "set -eu",
    `base=${base}`,
    'auth="$GF_SECURITY_ADMIN_USER:$GF_SECURITY_ADMIN_PASSWORD"',
    "i=0",
    'until curl -fsS -o /dev/null "$base/api/health"; do',
    '  i=$((i + 1)); if [ "$i" -ge 90 ]; then echo "kiali user: Grafana did not answer $base/api/health within 180 s" >&2; exit 1; fi',
    "  sleep 2",
    "done",
    `out=$(curl -sS -w ' %{http_code}' -u "$auth" ${json} -d '{"name":"Kiali (read-only)","login":"${KIALI_GRAFANA_USER}","password":"'"$KIALI_GRAFANA_PASSWORD"'"}' "$base/api/admin/users")`,
    // The status code ends the output: 200 created, 412 exists already (both fine).
    'case "$out" in *" 200" | *" 412") ;; *) echo "kiali user: creating it failed: $out" >&2; exit 1 ;; esac',
    `id=$(curl -fsS -u "$auth" "$base/api/users/lookup?loginOrEmail=${KIALI_GRAFANA_USER}" | sed -n 's/^{"id":\\([0-9]*\\),.*/\\1/p')`,
    'if [ -z "$id" ]; then echo "kiali user: not found after creating it" >&2; exit 1; fi',
    `curl -fsS -o /dev/null -u "$auth" -X PUT ${json} -d '{"password":"'"$KIALI_GRAFANA_PASSWORD"'"}' "$base/api/admin/users/$id/password"`,
    `curl -fsS -o /dev/null -u "$auth" -X PATCH ${json} -d '{"role":"Viewer"}' "$base/api/org/users/$id"`,
  ].join("\n");
}

export function grafanaValues(settings: GrafanaSettings): GrafanaValues {
  const url = publicUrls(settings.publicHost).grafana;
  return {
    admin: {
      existingSecret: SECRETS.grafanaAdmin.name,
      userKey: SECRETS.grafanaAdmin.userKey,
      passwordKey: SECRETS.grafanaAdmin.passwordKey,
    },
    "grafana.ini": {
      server: { root_url: `${url}/`, serve_from_sub_path: true },
      // Everyone logs in: no anonymous access, no self sign-up; new users are Viewers.
      "auth.anonymous": { enabled: false },
      users: { allow_sign_up: false, auto_assign_org_role: "Viewer" },
      security: { cookie_secure: settings.publicHost !== undefined, disable_gravatar: true },
    },
    envValueFrom: {
      KIALI_GRAFANA_PASSWORD: { secretKeyRef: { name: SECRETS.kialiGrafana.name, key: SECRETS.kialiGrafana.key } },
    },
    lifecycleHooks: { postStart: { exec: { command: ["/bin/sh", "-c", kialiViewerScript()] } } },
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
          // Traces behind Grafana's login: the Jaeger UI itself is not published.
          { name: "Jaeger", uid: "jaeger", type: "jaeger", url: endpoints.jaegerQueryHttp, access: "proxy" },
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
    defaultCurlOptions: DASHBOARD_CURL_OPTIONS,
    dashboards: {
      istio: Object.fromEntries(
        Object.entries(istioDashboards.files).map(([name, file]) => [
          name,
          { url: `${settings.dashboardsUrl.replace(/\/+$/, "")}/${file}` },
        ]),
      ),
    },
  };
}

export type KialiAuthStrategy = "token" | "anonymous";

export interface KialiSettings {
  readonly strategy: KialiAuthStrategy;
  /** Kiali shows the mesh but cannot change it (issue 11: read-only unless a key says otherwise). */
  readonly viewOnly: boolean;
  readonly publicHost?: string;
}

/** A value Kiali reads from a mounted Secret key (the chart mounts it: kiali-server credential-secrets). */
const fromSecret = (secret: { name: string; key: string }) => `secret:${secret.name}:${secret.key}`;

export interface KialiValues {
  readonly auth: { readonly strategy: KialiAuthStrategy };
  readonly deployment: {
    readonly instance_name: string;
    readonly cluster_wide_access: boolean;
    readonly view_only_mode: boolean;
  };
  readonly login_token: { readonly signing_key: string };
  readonly server: { readonly web_root: string };
  readonly external_services: {
    readonly istio: { readonly root_namespace: string };
    readonly prometheus: { readonly url: string };
    readonly grafana: {
      readonly enabled: boolean;
      readonly internal_url: string;
      readonly external_url: string;
      readonly datasource_uid: string;
      readonly auth: { readonly type: "basic"; readonly username: string; readonly password: string };
    };
    readonly tracing: {
      readonly enabled: boolean;
      readonly provider: "jaeger";
      readonly use_grpc: boolean;
      readonly internal_url: string;
      readonly external_url: string;
    };
  };
}

export function kialiValues(settings: KialiSettings): KialiValues {
  const urls = publicUrls(settings.publicHost);
  return {
    auth: { strategy: settings.strategy },
    deployment: { instance_name: "kiali", cluster_wide_access: true, view_only_mode: settings.viewOnly },
    // Without it the chart renders a new random key at every upgrade and every session drops.
    login_token: { signing_key: fromSecret(SECRETS.kialiSigningKey) },
    server: { web_root: "/kiali" },
    external_services: {
      istio: { root_namespace: ISTIO_NAMESPACE },
      prometheus: { url: endpoints.prometheus },
      grafana: {
        enabled: true,
        internal_url: endpoints.grafana,
        external_url: urls.grafana,
        datasource_uid: "prometheus",
        auth: { type: "basic", username: KIALI_GRAFANA_USER, password: fromSecret(SECRETS.kialiGrafana) },
      },
      tracing: {
        enabled: true,
        provider: "jaeger",
        use_grpc: true,
        internal_url: endpoints.jaegerQueryGrpc,
        external_url: urls.tracing,
      },
    },
  };
}

/** Requests and limits of one container (Kubernetes quantities). */
export interface Resources {
  readonly requests: { readonly cpu?: string; readonly memory?: string };
  readonly limits: { readonly cpu?: string; readonly memory?: string };
}

/** Where Jaeger keeps traces: in memory (lost when the pod restarts), or Badger on a volume. */
export type TraceStorage =
  | { readonly type: "memory" }
  | { readonly type: "badger"; readonly claimName: string; readonly retention: string };

export interface JaegerSettings {
  readonly storage: TraceStorage;
  readonly resources: Resources;
}

/** The memory store's bound: with spans of a few KB, well inside the default 1Gi limit. */
export const MEMORY_MAX_TRACES = 20000;
const BADGER_MOUNT = "/badger";

/**
 * Jaeger v2's configuration (an OpenTelemetry Collector config; jaegertracing/jaeger cmd/jaeger
 * config*.yaml). Chart 4.x writes `userconfig` to a ConfigMap and starts Jaeger with it; without it
 * the image's built-in all-in-one config (in-memory) applies. Receivers listen on every interface
 * (the collector's default is localhost), the health check on :13133 is what the chart's probes ask.
 */
export function jaegerConfig(storage: TraceStorage): Record<string, unknown> {
  const backend =
    storage.type === "memory"
      ? { memory: { max_traces: MEMORY_MAX_TRACES } }
      : {
          badger: {
            directories: { keys: `${BADGER_MOUNT}/keys`, values: `${BADGER_MOUNT}/values` },
            ephemeral: false,
            ttl: { spans: storage.retention },
          },
        };
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: {
          level: "detailed",
          readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: 8888 } } } }],
        },
      },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: "0.0.0.0:13133" } },
      jaeger_query: { storage: { traces: "traces" } },
      jaeger_storage: { backends: { traces: backend } },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${endpoints.jaegerOtlp.port}` },
          http: { endpoint: "0.0.0.0:4318" },
        },
      },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: "traces" } },
  };
}

export interface JaegerValues {
  readonly fullnameOverride: string;
  /** Jaeger v2 all-in-one (chart 4.x: the `jaeger` Deployment and Service). */
  readonly jaeger: {
    readonly enabled: boolean;
    readonly resources: Resources;
    readonly extraVolumes?: readonly object[];
    readonly extraVolumeMounts?: readonly object[];
  };
  readonly userconfig: Record<string, unknown>;
}

/** Jaeger v2 all-in-one: one Service `jaeger` (OTLP 4317, query 16686/16685), storage as configured. */
export function jaegerValues(settings: JaegerSettings): JaegerValues {
  const { storage } = settings;
  const volume =
    storage.type === "badger"
      ? {
          extraVolumes: [{ name: "traces", persistentVolumeClaim: { claimName: storage.claimName } }],
          extraVolumeMounts: [{ name: "traces", mountPath: BADGER_MOUNT }],
        }
      : {};
  return {
    fullnameOverride: "jaeger",
    jaeger: { enabled: true, resources: settings.resources, ...volume },
    userconfig: jaegerConfig(storage),
  };
}
