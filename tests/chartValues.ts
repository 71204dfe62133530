/**
 * Helm ignores values a chart does not read: a misspelt or moved value just does nothing. This
 * checks every leaf path a release sets against the upstream chart's own data in ../shared/charts
 * (default values.yaml, values.schema.json; see its README), keyed by chart name, and names the chart
 * version it checked against. Reusable: other charts join by an entry in CHART_RULES.
 *
 * A leaf path is accepted when
 *   - it exists in the chart's default values (Istio's charts keep theirs under
 *     `_internal_defaults_do_not_set`, which their templates merge), or
 *   - the chart's schema declares it (`properties`), or
 *   - it lies under a map the chart documents as free-form (FreeForm: why and where it says so), or
 *   - it is one of the paths the chart documents outside its default values (Documented: where).
 * Lists and empty maps are leaves (Helm replaces a list wholesale). Values are also validated against
 * values.schema.json after Helm's merge with the defaults, as `helm install` does.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";

export const CHART_DATA_DIR = path.resolve(__dirname, "..", "..", "shared", "charts");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Dot-separated path, `*` matching any one key; a list of keys where a key holds a dot ("grafana.ini"). */
type PathPattern = string | readonly string[];

interface FreeForm {
  /** The map; keys below it are the chart's to pass on. */
  readonly path: PathPattern;
  /** Why it is free-form and where the chart (or the application) says so. */
  readonly why: string;
}

interface Documented {
  /** A leaf (or map) path the chart reads although its default values do not carry it. */
  readonly path: PathPattern;
  readonly source: string;
}

export interface ChartRules {
  /** Folder under ../shared/charts; default: the chart's name. */
  readonly folder?: string;
  /**
   * The chart has no data in ../shared/charts, and why: its values cannot be checked here (a
   * known gap, listed by the test so it cannot grow silently).
   */
  readonly withoutData?: string;
  readonly freeForm?: readonly FreeForm[];
  readonly documented?: readonly Documented[];
}

const KIALI_CONFIG =
  "Kiali's configuration (kiali/kiali config/config.go yaml keys = the Kiali CR reference): the kiali-server chart writes its values into Kiali's config file (templates/configmap.yaml), its values.yaml lists only what the templates read";

const ISTIO_PROFILE =
  "templates/zzz_profile.yaml of Istio's charts reads .Values.profile (or global.profile) and merges files/profile-<name>.yaml under the user's values; istio.io 'Install with Helm' (ambient) sets profile=ambient on istiod and cni";

/** `dashboards.<provider>.<name>.<field>`: the fields values.yaml documents in its commented example. */
const GRAFANA_DASHBOARD_FIELDS = [
  "json",
  "file",
  "title",
  "gnetId",
  "revision",
  "datasource",
  "url",
  "curlOptions",
  "token",
  "b64content",
  "gitlabToken",
  "bearerToken",
  "basic",
  "acceptHeader",
];

/** Per chart: where its data lives and what it documents beyond its default values. Extend here for new charts. */
export const CHART_RULES: Readonly<Record<string, ChartRules>> = {
  base: {},
  istiod: {
    freeForm: [
      {
        path: "meshConfig",
        why: "Istio's MeshConfig API (istio.io reference: istio.mesh.v1alpha1), passed to the mesh ConfigMap as given",
      },
      {
        path: "gatewayClasses.*",
        why: "GatewayClass name → overlays (deployment, service, horizontalPodAutoscaler, podDisruptionBudget) of the objects Istio generates for its Gateways (values.yaml comment above gatewayClasses; templates/gateway-class-configmap.yaml)",
      },
    ],
    documented: [{ path: "profile", source: ISTIO_PROFILE }],
  },
  gateway: {
    freeForm: [
      { path: "podAnnotations", why: "Kubernetes annotations, copied to the gateway pods" },
      { path: "service.annotations", why: "Kubernetes annotations, copied to the gateway Service" },
    ],
  },
  cni: { folder: "istio-cni", documented: [{ path: "profile", source: ISTIO_PROFILE }] },
  ztunnel: {},
  "tigera-operator": {
    freeForm: [
      {
        path: "installation",
        why: "the operator.tigera.io Installation spec, rendered as the Installation resource (values.yaml: installation)",
      },
    ],
  },
  "crd.projectcalico.org.v1": {},
  "openstack-cloud-controller-manager": {
    freeForm: [
      {
        path: "cloudConfig.*",
        why: "cloud.conf sections, keys as the cloud-controller-manager's configuration names them (values.yaml, comment above cloudConfig)",
      },
    ],
  },
  "openstack-cinder-csi": {
    documented: [{ path: "secret.name", source: "values.yaml, the commented block under `secret:`" }],
    freeForm: [
      {
        path: "csi.plugin.nodePlugin.podAnnotations",
        why: "Kubernetes annotations, added to the node plugin's pods (values.yaml comment above it)",
      },
      {
        path: "csi.plugin.controllerPlugin.podAnnotations",
        why: "Kubernetes annotations, added to the controller plugin's pods (values.yaml comment above it)",
      },
    ],
  },
  prometheus: {
    freeForm: [
      {
        path: ["serverFiles", "alerting_rules.yml"],
        why: "a Prometheus rule file (rule groups), written to the server's ConfigMap (values.yaml: serverFiles)",
      },
    ],
    // The alertmanager subchart's values: its data is not in ../shared/charts (the prometheus folder's
    // SOURCE names alertmanager 1.42.0 as a dependency). Checked by hand against that tag's values.yaml
    // and templates/statefulset.yaml; listed path by path so that any other alertmanager value fails.
    documented: [
      "alertmanager.config.enabled",
      "alertmanager.extraSecretMounts",
      "alertmanager.extraArgs",
      "alertmanager.configmapReload.enabled",
      "alertmanager.configmapReload.extraArgs",
      "alertmanager.configmapReload.extraVolumeMounts",
    ].map((path) => ({
      path,
      source: "prometheus-community alertmanager chart 1.42.0 values.yaml (not in ../shared/charts)",
    })),
  },
  grafana: {
    freeForm: [
      { path: "datasources", why: "file name → Grafana datasource provisioning document (values.yaml: datasources)" },
      {
        path: "dashboardProviders",
        why: "file name → Grafana dashboard provider document (values.yaml: dashboardProviders)",
      },
      { path: ["grafana.ini"], why: "grafana.ini sections and keys (Grafana's configuration reference)" },
      { path: "envValueFrom", why: "environment variable name → valueFrom (values.yaml: envValueFrom)" },
    ],
    documented: [
      ...GRAFANA_DASHBOARD_FIELDS.map((field) => ({
        path: `dashboards.*.*.${field}`,
        source: "values.yaml, the commented example under `dashboards:`",
      })),
      { path: "lifecycleHooks.postStart", source: "values.yaml, the commented example under `lifecycleHooks:`" },
    ],
  },
  "kiali-server": {
    documented: [
      "external_services.prometheus.url",
      "external_services.grafana.enabled",
      "external_services.grafana.internal_url",
      "external_services.grafana.external_url",
      "external_services.grafana.datasource_uid",
      "external_services.grafana.auth.type",
      "external_services.grafana.auth.username",
      "external_services.grafana.auth.password",
      "external_services.tracing.enabled",
      "external_services.tracing.provider",
      "external_services.tracing.use_grpc",
      "external_services.tracing.internal_url",
      "external_services.tracing.external_url",
    ].map((p) => ({ path: p, source: KIALI_CONFIG })),
  },
  jaeger: {
    freeForm: [
      {
        path: "userconfig",
        why: "the Jaeger v2 configuration file, written verbatim to the user-config ConfigMap the container starts with (templates/jaeger/jaeger-user-config.yaml, jaeger-deploy.yaml `--config`)",
      },
    ],
    documented: [{ path: "jaeger.resources", source: "values.yaml, the commented block under `jaeger:`" }],
  },
  "kubelet-csr-approver": {
    withoutData:
      "postfinance/kubelet-csr-approver is not among ../shared/charts; its three values (providerRegex, providerIpPrefixes, bypassDnsResolution) were checked by hand against the chart's values.yaml at v1.2.14",
  },
};

/** The data of one chart: its version as the data says, where it comes from, defaults and schema. */
export interface ChartData {
  readonly chart: string;
  readonly folder: string;
  /** Chart.yaml `version` of the data. */
  readonly version: string;
  /** The folder's SOURCE line: upstream repository, tag or commit. */
  readonly source: string;
  readonly defaults: JsonObject;
  readonly schema?: JsonObject;
}

const cache = new Map<string, ChartData>();

export function chartData(chart: string): ChartData {
  const rules = CHART_RULES[chart];
  if (!rules) {
    throw new Error(
      `no chart rules for ${chart}: add it to CHART_RULES (tests/chartValues.ts) with its ../shared/charts folder`,
    );
  }
  if (rules.withoutData) throw new Error(`${chart} has no data in ../shared/charts: ${rules.withoutData}`);
  const cached = cache.get(chart);
  if (cached) return cached;
  const folder = rules.folder ?? chart;
  const dir = path.join(CHART_DATA_DIR, folder);
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  const meta = parseYaml(read("Chart.yaml")) as { version: string };
  let schema: JsonObject | undefined;
  try {
    schema = JSON.parse(read("values.schema.json")) as JsonObject;
  } catch {
    schema = undefined;
  }
  const data: ChartData = {
    chart,
    folder,
    version: String(meta.version),
    source: read("SOURCE").trim(),
    defaults: (parseYaml(read("values.yaml")) ?? {}) as JsonObject,
    ...(schema ? { schema } : {}),
  };
  cache.set(chart, data);
  return data;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every leaf of a values tree as its path; lists and empty maps are leaves. */
export function leafPaths(values: JsonObject, prefix: string[] = []): string[][] {
  return Object.entries(values).flatMap(([key, value]) =>
    isObject(value) && Object.keys(value).length > 0 ? leafPaths(value, [...prefix, key]) : [[...prefix, key]],
  );
}

export const showPath = (p: readonly string[]) =>
  p.map((segment, i) => (/^[A-Za-z0-9_-]+$/.test(segment) ? `${i ? "." : ""}${segment}` : `["${segment}"]`)).join("");

function inDefaults(defaults: JsonObject, p: readonly string[]): boolean {
  const roots = [defaults, defaults._internal_defaults_do_not_set].filter(isObject);
  return roots.some((root) => {
    let node: Json = root;
    for (const segment of p) {
      if (!isObject(node) || !(segment in node)) return false;
      node = node[segment];
    }
    return true;
  });
}

function resolveRef(schema: JsonObject, node: JsonObject): JsonObject {
  const ref = node.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return node;
  let target: Json = schema;
  for (const segment of ref.slice(2).split("/")) target = isObject(target) ? target[segment] : null;
  return isObject(target) ? resolveRef(schema, target) : node;
}

function inSchema(schema: JsonObject | undefined, p: readonly string[]): boolean {
  if (!schema) return false;
  let node = resolveRef(schema, schema);
  for (const segment of p) {
    const properties = node.properties;
    if (!isObject(properties) || !isObject(properties[segment])) return false;
    node = resolveRef(schema, properties[segment] as JsonObject);
  }
  return true;
}

const matches = (pattern: PathPattern, p: readonly string[]) => {
  const segments = typeof pattern === "string" ? pattern.split(".") : pattern;
  return segments.length <= p.length && segments.every((s, i) => s === "*" || s === p[i]);
};

export interface PathFinding {
  readonly path: string;
  readonly problem: string;
}

/** Leaf paths of `values` that the chart neither has, nor declares, nor documents as free-form. */
export function unknownPaths(chart: string, values: JsonObject): PathFinding[] {
  const data = chartData(chart);
  const rules = CHART_RULES[chart] ?? {};
  return leafPaths(values)
    .filter(
      (p) =>
        !inDefaults(data.defaults, p) &&
        !inSchema(data.schema, p) &&
        !(rules.freeForm ?? []).some((f) => matches(f.path, p)) &&
        !(rules.documented ?? []).some((d) => matches(d.path, p)),
    )
    .map((p) => ({
      path: showPath(p),
      problem: `not in ${data.folder} ${data.version}'s values.yaml${data.schema ? " or schema" : ""}, nor documented as free-form: Helm ignores it`,
    }));
}

/** Helm's coalesce of user values over chart defaults: maps merge, anything else replaces; null deletes. */
export function helmMerge(defaults: JsonObject, values: JsonObject): JsonObject {
  const merged: JsonObject = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete merged[key];
    else if (isObject(value) && isObject(merged[key])) merged[key] = helmMerge(merged[key] as JsonObject, value);
    else merged[key] = value;
  }
  return merged;
}

/** values.schema.json errors of the merged values (none when the chart has no schema). */
export function schemaErrors(chart: string, values: JsonObject): string[] {
  const data = chartData(chart);
  if (!data.schema) return [];
  const { $schema: _ignored, ...schema } = data.schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  if (validate(helmMerge(data.defaults, values))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

/** The version the data says it is, and whether it is the pinned one. */
export interface VersionCheck {
  readonly chart: string;
  readonly pinned: string;
  readonly data: string;
  readonly source: string;
}

const bare = (version: string) => version.replace(/^v/, "");

/** Pins that differ from the chart data: the paths were checked against another version of the chart. */
export function versionGap(chart: string, pinned: string): VersionCheck | undefined {
  const data = chartData(chart);
  return bare(pinned) === bare(data.version) ? undefined : { chart, pinned, data: data.version, source: data.source };
}

/**
 * Every pin that differs from its chart data, acknowledged with the reason. A pin moved, or data
 * brought up to date, fails the test until this list says so: a gap is never passed silently.
 */
export const KNOWN_DATA_GAPS: readonly { chart: string; pinned: string; data: string; why: string }[] = [
  ...["base", "istiod", "gateway", "cni", "ztunnel"].map((chart) => ({
    chart,
    pinned: "1.31.1",
    data: "1.0.0",
    why: "Istio's charts from the release-1.31 branch before 1.31.0 (source charts carry the placeholder 1.0.0); 1.31.1 is a patch release",
  })),
  ...["tigera-operator", "crd.projectcalico.org.v1"].map((chart) => ({
    chart,
    pinned: "v3.32.4",
    data: "v3.32.2-dev.releasebranch",
    why: "Calico's release-v3.32 branch after v3.32.1; patch releases of one minor",
  })),
  {
    chart: "openstack-cloud-controller-manager",
    pinned: "2.36.5",
    data: "2.36.0",
    why: "cloud-provider-openstack patch releases of one minor",
  },
  {
    chart: "openstack-cinder-csi",
    pinned: "2.36.2",
    data: "2.36.0",
    why: "cloud-provider-openstack patch releases of one minor",
  },
  {
    chart: "prometheus",
    pinned: "29.35.0",
    data: "29.27.0",
    why: "minor releases of chart 29 (the newest the data source had)",
  },
  {
    chart: "grafana",
    pinned: "13.2.6",
    data: "12.11.1",
    why: "a chart major ahead of the data: the data's repository had no 13.x chart at its snapshot (12.11.1 ships Grafana 13.2.0); paths renamed in 13.x are not seen here",
  },
  {
    chart: "kiali-server",
    pinned: "2.31.0",
    data: "2.30.0-SNAPSHOT",
    why: "the data is master three days after v2.29.0; 2.31.0 is two releases later",
  },
  {
    chart: "jaeger",
    pinned: "4.14.1",
    data: "4.11.1",
    why: "minor releases of chart 4 (the newest the data source had)",
  },
];
