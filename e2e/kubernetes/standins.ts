/**
 * Stand-in charts, made at test time, and a loopback chart repository that serves them.
 *
 * No chart repository can be reached here, so the `e2e:kubernetes` ring cannot install the real
 * charts. A STAND-IN chart is built from the upstream chart's data in ../shared/charts/<dir>: its
 * real name, its default values.yaml, its values.schema.json and its CRDs, at the version the
 * program asks for, plus templates of our own (below). It is never the real chart: none of the
 * upstream templates is rendered, so no Deployment, RBAC or webhook of the chart exists. What it
 * proves: Helm validates the program's values against the real schema, CRDs install (and custom
 * resources are accepted by them) in the graph's order, releases install, upgrade and uninstall,
 * and the values each release received (read back from the stand-in's ConfigMap).
 *
 * Our templates:
 * - every stand-in: a ConfigMap `stand-in-values-<release>` with the values Helm gave the release
 *   (`toJson .Values`: the chart's defaults merged with the program's values) and the chart's
 *   name and version;
 * - the Istio gateway stand-in: the Service the upstream chart makes (release name, type, ports,
 *   annotations and load-balancer fields from the values), because the program reads that Service
 *   back for the ingress address.
 * The repository is served over HTTPS (staging and prod refuse a plain-http chart source), with a
 * throwaway self-signed certificate for 127.0.0.1 that the engine trusts through SSL_CERT_FILE, as a
 * private mirror with its own CA would be trusted.
 * CRDs go where the upstream chart puts them: Istio's base renders them from templates (so they
 * upgrade with the chart) with `helm.sh/resource-policy: keep` on each (so uninstall leaves them);
 * other charts ship them in crds/ (installed once, never upgraded or deleted by Helm).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { run } from "../lib/proc";

/** A chart the program asks for: name and exact version. */
export interface ChartRequest {
  readonly chart: string;
  readonly version: string;
}

export const STAND_IN_LABEL = "e2e.istio-openstack/stand-in";
export const VALUES_CONFIGMAP_PREFIX = "stand-in-values-";

/** Where Debian (and Red Hat) keep the system's CA bundle, which SSL_CERT_FILE replaces for Go. */
const SYSTEM_CA_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

/** Charts whose upstream renders its CRDs from templates instead of shipping them in crds/. */
const CRDS_AS_TEMPLATES = new Set(["base"]);

const VALUES_TEMPLATE = `# STAND-IN template (e2e:kubernetes ring): the values Helm gave this release, for the ring to read back.
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${VALUES_CONFIGMAP_PREFIX}{{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    ${STAND_IN_LABEL}: "true"
data:
  chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
  values.json: |-
{{ toJson .Values | indent 4 }}
`;

const CRD_TEMPLATE = `# STAND-IN template: the chart's CRDs, rendered from files/ as the upstream chart does.
{{ .Files.Get "files/crds.yaml" }}
`;

/** The upstream gateway chart's Service, as far as the program relies on it (it reads it back). */
const GATEWAY_SERVICE_TEMPLATE = `# STAND-IN template: the Service of the upstream gateway chart (name, type, ports, annotations,
# load-balancer fields); no Deployment behind it.
{{- $defaults := index .Values "_internal_defaults_do_not_set" | default dict }}
{{- $service := mustMergeOverwrite (deepCopy ($defaults.service | default dict)) (.Values.service | default dict) }}
apiVersion: v1
kind: Service
metadata:
  name: {{ .Values.name | default .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    ${STAND_IN_LABEL}: "true"
  {{- with $service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $service.type }}
  {{- with $service.loadBalancerIP }}
  loadBalancerIP: {{ . }}
  {{- end }}
  {{- with $service.loadBalancerSourceRanges }}
  loadBalancerSourceRanges:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and $service.externalTrafficPolicy (ne $service.type "ClusterIP") }}
  externalTrafficPolicy: {{ $service.externalTrafficPolicy }}
  {{- end }}
  ports:
  {{- range $service.ports }}
    - name: {{ .name }}
      port: {{ .port }}
      protocol: {{ .protocol | default "TCP" }}
      targetPort: {{ .targetPort }}
  {{- end }}
  selector:
    app: {{ .Values.name | default .Release.Name }}
`;

const EXTRA_TEMPLATES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  gateway: { "stand-in-service.yaml": GATEWAY_SERVICE_TEMPLATE },
};

interface ChartData {
  readonly dir: string;
  readonly chartYaml: Record<string, unknown>;
  readonly source: string;
}

/** The upstream data folders of ../shared/charts, by the chart name their Chart.yaml gives. */
function chartData(chartsRoot: string): Map<string, ChartData> {
  const found = new Map<string, ChartData>();
  for (const entry of readdirSync(chartsRoot, { withFileTypes: true })) {
    const file = path.join(chartsRoot, entry.name, "Chart.yaml");
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const chartYaml = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>;
    const sourceFile = path.join(chartsRoot, entry.name, "SOURCE");
    const source = existsSync(sourceFile) ? readFileSync(sourceFile, "utf8").trim().split("\n")[0] : "unknown";
    found.set(String(chartYaml.name), { dir: path.join(chartsRoot, entry.name), chartYaml, source });
  }
  return found;
}

/** Chart.yaml of the stand-in: the real name, the requested version, no subchart dependencies. */
function standInChartYaml(request: ChartRequest, data: ChartData): Record<string, unknown> {
  const upstream = data.chartYaml;
  return {
    apiVersion: "v2",
    name: request.chart,
    version: request.version,
    ...(upstream.appVersion ? { appVersion: upstream.appVersion } : {}),
    // Kept: Helm checks it against the real API server's version, as for the real chart.
    ...(upstream.kubeVersion ? { kubeVersion: upstream.kubeVersion } : {}),
    type: "application",
    description:
      `STAND-IN for the ${request.chart} chart ${request.version} (e2e:kubernetes ring): the upstream ` +
      `chart's values, schema and CRDs from ../shared/charts/${path.basename(data.dir)} (upstream chart ` +
      `version ${String(upstream.version)}), with templates of the ring's own. Not the real chart.`,
    annotations: { [STAND_IN_LABEL]: "true", [`${STAND_IN_LABEL}-data`]: data.source },
  };
}

/**
 * A chart repository on loopback (in this process: it lives and dies with the ring) whose
 * index.yaml lists the stand-ins built so far.
 */
export class StandInRepository {
  private server?: Server;
  private readonly built = new Map<string, { file: string; digest: string; chartYaml: Record<string, unknown> }>();
  private readonly data: Map<string, ChartData>;
  /** Requests served, by path (how the program's Helm fetched the charts). */
  readonly requests = new Map<string, number>();
  url = "";
  /** A CA bundle (the system's plus the repository's certificate): SSL_CERT_FILE for the engine. */
  readonly caBundle: string;
  private readonly tlsDir: string;

  constructor(
    private readonly dir: string,
    chartsRoot: string,
  ) {
    if (!existsSync(chartsRoot)) throw new Error(`no upstream chart data at ${chartsRoot} (../shared/charts)`);
    this.data = chartData(chartsRoot);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.tlsDir = path.join(path.dirname(dir), `${path.basename(dir)}-tls`);
    this.caBundle = path.join(this.tlsDir, "ca-bundle.pem");
  }

  /** A self-signed certificate for 127.0.0.1, valid two days, and the bundle that trusts it. */
  private async certificate(): Promise<{ key: Buffer; cert: Buffer }> {
    rmSync(this.tlsDir, { recursive: true, force: true });
    mkdirSync(this.tlsDir, { recursive: true, mode: 0o700 });
    const key = path.join(this.tlsDir, "key.pem");
    const cert = path.join(this.tlsDir, "cert.pem");
    await run(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "2",
        "-subj",
        "/CN=e2e stand-in chart repository",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { timeoutSeconds: 60 },
    );
    const system = SYSTEM_CA_BUNDLES.find((file) => existsSync(file));
    writeFileSync(this.caBundle, `${system ? readFileSync(system, "utf8") : ""}\n${readFileSync(cert, "utf8")}`);
    return { key: readFileSync(key), cert: readFileSync(cert) };
  }

  async start(): Promise<string> {
    const server = createServer(await this.certificate(), (request, response) => {
      const name = decodeURIComponent((request.url ?? "/").split("?")[0]).replace(/^\/+/, "");
      this.requests.set(name, (this.requests.get(name) ?? 0) + 1);
      const file = path.join(this.dir, name);
      if (request.method !== "GET" || !/^[\w.+-]+$/.test(name) || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      const body = readFileSync(file);
      response
        .writeHead(200, {
          "content-type": name.endsWith(".yaml") ? "application/yaml" : "application/gzip",
          "content-length": body.length,
        })
        .end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Builds the stand-ins not built yet and rewrites index.yaml; returns the ones built now. */
  async ensure(requests: readonly ChartRequest[]): Promise<string[]> {
    const made: string[] = [];
    for (const request of requests) {
      const key = `${request.chart}-${request.version}`;
      if (this.built.has(key)) continue;
      const data = this.data.get(request.chart);
      if (!data) {
        throw new Error(
          `no upstream data for chart ${request.chart} in ../shared/charts (have: ${[...this.data.keys()].sort().join(", ")}); cannot make its stand-in`,
        );
      }
      this.built.set(key, await this.build(request, data));
      made.push(key);
    }
    this.writeIndex();
    return made;
  }

  private async build(request: ChartRequest, data: ChartData) {
    const root = path.join(this.dir, ".build", `${request.chart}-${request.version}`);
    const chartDir = path.join(root, request.chart);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(path.join(chartDir, "templates"), { recursive: true });
    const chartYaml = standInChartYaml(request, data);
    writeFileSync(path.join(chartDir, "Chart.yaml"), toYaml(chartYaml));
    copyFileSync(path.join(data.dir, "values.yaml"), path.join(chartDir, "values.yaml"));
    if (existsSync(path.join(data.dir, "values.schema.json"))) {
      copyFileSync(path.join(data.dir, "values.schema.json"), path.join(chartDir, "values.schema.json"));
    }
    writeFileSync(path.join(chartDir, "templates", "stand-in-values.yaml"), VALUES_TEMPLATE);
    for (const [file, text] of Object.entries(EXTRA_TEMPLATES[request.chart] ?? {})) {
      writeFileSync(path.join(chartDir, "templates", file), text);
    }
    const crdDir = path.join(data.dir, "crds");
    const crdFiles = existsSync(crdDir)
      ? readdirSync(crdDir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
      : [];
    if (crdFiles.length > 0 && CRDS_AS_TEMPLATES.has(request.chart)) {
      mkdirSync(path.join(chartDir, "files"));
      const all = crdFiles.map((f) => readFileSync(path.join(crdDir, f), "utf8").trimEnd()).join("\n---\n");
      writeFileSync(path.join(chartDir, "files", "crds.yaml"), `${all}\n`);
      writeFileSync(path.join(chartDir, "templates", "crds.yaml"), CRD_TEMPLATE);
    } else if (crdFiles.length > 0) {
      mkdirSync(path.join(chartDir, "crds"));
      for (const f of crdFiles) copyFileSync(path.join(crdDir, f), path.join(chartDir, "crds", f));
    }
    // A reproducible archive: sorted entries, fixed owner and time, gzip without a timestamp.
    const tarFile = path.join(root, "chart.tar");
    await run(
      "tar",
      [
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mtime=@0",
        "-C",
        root,
        "-cf",
        tarFile,
        request.chart,
      ],
      { timeoutSeconds: 120 },
    );
    const archive = gzipSync(readFileSync(tarFile), { level: 9 });
    const file = `${request.chart}-${request.version}.tgz`;
    writeFileSync(path.join(this.dir, file), archive);
    rmSync(root, { recursive: true, force: true });
    return { file, digest: createHash("sha256").update(archive).digest("hex"), chartYaml };
  }

  private writeIndex(): void {
    const entries: Record<string, unknown[]> = {};
    for (const { file, digest, chartYaml } of this.built.values()) {
      const name = String(chartYaml.name);
      entries[name] = [...(entries[name] ?? []), { ...chartYaml, digest, urls: [file] }];
    }
    writeFileSync(path.join(this.dir, "index.yaml"), toYaml({ apiVersion: "v1", entries }));
  }

  /** Stand-ins built so far, as chart-version. */
  get charts(): string[] {
    return [...this.built.keys()].sort();
  }
}
