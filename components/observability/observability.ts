/**
 * Observability: Prometheus (retention and a Cinder volume), Jaeger (the mesh's tracing provider),
 * Grafana (Istio dashboards, generated admin password) and Kiali (token auth unless a stack asks),
 * all in istio-system, all after istiod serves. Optionally Kiali behind the ingress gateway over TLS.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { meshCharts, type PinnedChart } from "../../lib/versions";
import { type ChartRepositoryOverrides, chartRelease } from "../charts";
import { resourceName } from "../names";
import {
  GRAFANA_ADMIN_SECRET,
  grafanaValues,
  jaegerValues,
  type KialiAuthStrategy,
  kialiValues,
  type PrometheusSettings,
  prometheusValues,
} from "./values";

/** A Kubernetes object given as data (a custom resource the mesh renders). */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: unknown;
}

/** Kiali published through the ingress gateway: the routing objects, applied once Kiali and the gateway run. */
export interface KialiRoute {
  readonly objects: readonly KubernetesObject[];
  /** The ingress gateway (its release): the route is created once the gateway runs. */
  readonly gateway: pulumi.Resource;
}

export interface ObservabilityArgs {
  readonly clusterName: string;
  readonly chartRepositories: ChartRepositoryOverrides;
  readonly prometheus: PrometheusSettings;
  readonly kialiAuth: KialiAuthStrategy;
  readonly kialiRoute?: KialiRoute;
  /** istiod releases (and anything else that must serve first). */
  readonly after: readonly pulumi.Resource[];
}

export class Observability extends pulumi.ComponentResource {
  /** Grafana's admin password: a Pulumi secret, never in plain outputs. */
  readonly grafanaAdminPassword: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:observability:Observability", name, {}, opts);
    const child = { parent: this };
    const named = (...parts: string[]) => resourceName(args.clusterName, ...parts);
    const release = (releaseName: string, chart: PinnedChart, values: object, dependsOn: pulumi.Resource[]) =>
      chartRelease(
        named(releaseName),
        { releaseName, chart, namespace: ISTIO_NAMESPACE, values, chartRepositories: args.chartRepositories },
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

    const route = args.kialiRoute;
    for (const object of route?.objects ?? []) {
      new k8s.apiextensions.CustomResource(
        named("kiali", object.kind.toLowerCase()),
        { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
        { ...child, dependsOn: [kiali, ...(route ? [route.gateway] : [])] },
      );
    }

    this.registerOutputs({});
  }
}
