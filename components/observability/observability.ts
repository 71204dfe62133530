/**
 * Observability: Prometheus (retention and a Cinder volume), Jaeger (the mesh's tracing provider),
 * Grafana (Istio dashboards, generated admin password) and Kiali (token auth unless a stack asks),
 * all in istio-system, all after istiod serves. Optionally Kiali behind the ingress gateway over TLS.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type ChartRepositoryOverrides, resolveChart } from "../charts";
import { kialiExposure } from "../mesh/policy";
import { ISTIO_NAMESPACE } from "../mesh/revisions";
import { resourceName } from "../names";
import { meshCharts, type PinnedChart } from "../versions";
import {
  GRAFANA_ADMIN_SECRET,
  grafanaValues,
  jaegerValues,
  type KialiAuthStrategy,
  kialiValues,
  type PrometheusSettings,
  prometheusValues,
} from "./values";

export interface KialiIngress {
  readonly host: string;
  readonly tlsSecret: string;
  readonly gatewayNamespace: string;
  readonly gatewaySelector: Readonly<Record<string, string>>;
  /** The ingress gateway release: the route is created once the gateway runs. */
  readonly gateway: pulumi.Resource;
}

export interface ObservabilityArgs {
  readonly clusterName: string;
  readonly chartRepositories: ChartRepositoryOverrides;
  readonly prometheus: PrometheusSettings;
  readonly kialiAuth: KialiAuthStrategy;
  readonly kialiIngress?: KialiIngress;
  /** istiod releases (and anything else that must serve first). */
  readonly after: readonly pulumi.Resource[];
}

export class Observability extends pulumi.ComponentResource {
  /** Grafana's admin password: a Pulumi secret, never in plain outputs. */
  readonly grafanaAdminPassword: pulumi.Output<string>;
  readonly kialiUrl?: string;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:observability:Observability", name, {}, opts);
    const child = { parent: this };
    const named = (...parts: string[]) => resourceName(args.clusterName, ...parts);
    const release = (releaseName: string, chart: PinnedChart, values: object, dependsOn: pulumi.Resource[]) =>
      new k8s.helm.v3.Release(
        named(releaseName),
        {
          name: releaseName,
          namespace: ISTIO_NAMESPACE,
          ...resolveChart(chart, args.chartRepositories),
          values: values as Record<string, unknown>,
          atomic: true,
          timeout: 600,
        },
        { ...child, dependsOn },
      );
    const after = [...args.after];

    const prometheus = release("prometheus", meshCharts.prometheus, prometheusValues(args.prometheus), after);
    const jaeger = release("jaeger", meshCharts.jaeger, jaegerValues(), after);

    const password = new random.RandomPassword(named("grafana-admin"), { length: 32, special: false }, child);
    this.grafanaAdminPassword = pulumi.secret(password.result);
    const adminSecret = new k8s.core.v1.Secret(
      named("grafana-admin"),
      {
        metadata: { name: GRAFANA_ADMIN_SECRET.name, namespace: ISTIO_NAMESPACE },
        stringData: {
          [GRAFANA_ADMIN_SECRET.userKey]: "admin",
          [GRAFANA_ADMIN_SECRET.passwordKey]: this.grafanaAdminPassword,
        },
      },
      { ...child, dependsOn: after },
    );
    const grafana = release("grafana", meshCharts.grafana, grafanaValues(), [...after, adminSecret, prometheus]);

    const kiali = release("kiali", meshCharts.kiali, kialiValues(args.kialiAuth), [
      ...after,
      prometheus,
      grafana,
      jaeger,
    ]);

    if (args.kialiIngress) {
      const ingress = args.kialiIngress;
      for (const resource of kialiExposure({
        host: ingress.host,
        tlsSecret: ingress.tlsSecret,
        gatewayNamespace: ingress.gatewayNamespace,
        gatewaySelector: ingress.gatewaySelector,
        kialiService: `kiali.${ISTIO_NAMESPACE}.svc.cluster.local`,
        kialiPort: 20001,
      })) {
        new k8s.apiextensions.CustomResource(
          named("kiali", resource.kind.toLowerCase()),
          { apiVersion: resource.apiVersion, kind: resource.kind, metadata: resource.metadata, spec: resource.spec },
          { ...child, dependsOn: [kiali, ingress.gateway] },
        );
      }
      this.kialiUrl = `https://${ingress.host}/kiali`;
    }

    this.registerOutputs({});
  }
}
