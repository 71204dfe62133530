/**
 * Observability: Prometheus (retention and a Cinder volume), Jaeger (the mesh's tracing provider),
 * Grafana (Istio dashboards, an admin password given or generated, a read-only user for Kiali) and
 * Kiali (token auth unless a stack asks, view-only by default, a stable session signing key), all in
 * istio-system, all after istiod serves. Optionally Kiali and Grafana behind the ingress gateway.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify as toYaml } from "yaml";
import { ISTIO_NAMESPACE } from "../../lib/istio";
import { meshCharts, type PinnedChart } from "../../lib/versions";
import { type ChartRepositoryOverrides, chartRelease } from "../charts";
import { resourceName } from "../names";
import { type AlertmanagerReceiver, alertmanagerConfig } from "./alerts";
import {
  type GrafanaSettings,
  grafanaValues,
  jaegerValues,
  type KialiSettings,
  kialiGrafanaPassword,
  kialiValues,
  type PrometheusSettings,
  prometheusValues,
  type Resources,
  SECRETS,
  type TraceStorage,
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
  readonly prometheus: Omit<PrometheusSettings, "alertmanager">;
  readonly grafana: Omit<GrafanaSettings, "publicHost">;
  readonly jaeger: {
    readonly storage:
      | { readonly type: "memory" }
      | { readonly type: "badger"; readonly size: string; readonly storageClass?: string; readonly retention: string };
    readonly resources: Resources;
  };
  readonly kiali: Omit<KialiSettings, "publicHost">;
  /** kialiHost: where Kiali and Grafana are published (their routes in kialiRoute). */
  readonly publicHost?: string;
  readonly kialiRoute?: KialiRoute;
  /**
   * Given as secret config, or generated here (@pulumi/random) when absent. Both given: no
   * @pulumi/random resource at all (what a clusterMode existing deployment on the real engine needs).
   */
  readonly grafanaAdminPassword?: pulumi.Output<string>;
  /** Alertmanager's receiver (secret config, kept secret here): Alertmanager is installed only with one. */
  readonly alertmanagerReceiver?: AlertmanagerReceiver;
  readonly kialiSigningKey?: pulumi.Output<string>;
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

    const alerting = args.alertmanagerReceiver
      ? [
          new k8s.core.v1.Secret(
            named("alertmanager-config"),
            {
              metadata: { name: SECRETS.alertmanager.name, namespace: ISTIO_NAMESPACE },
              stringData: {
                [SECRETS.alertmanager.key]: pulumi.secret(toYaml(alertmanagerConfig(args.alertmanagerReceiver))),
              },
            },
            { ...child, dependsOn: after },
          ),
        ]
      : [];
    const prometheus = release(
      "prometheus",
      meshCharts.prometheus,
      prometheusValues({ ...args.prometheus, alertmanager: alerting.length > 0 }),
      [...after, ...alerting],
    );
    const traces = this.traceStorage(args, named, after);
    const jaeger = release("jaeger", meshCharts.jaeger, jaegerValues(traces.settings), [...after, ...traces.claim]);

    const generated = (what: string) =>
      new random.RandomPassword(named(what), { length: 32, special: false }, child).result;
    this.grafanaAdminPassword = pulumi.secret(args.grafanaAdminPassword ?? generated("grafana-admin"));
    const secret = (what: string, secretName: string, stringData: Record<string, pulumi.Input<string>>) =>
      new k8s.core.v1.Secret(
        named(what),
        { metadata: { name: secretName, namespace: ISTIO_NAMESPACE }, stringData },
        { ...child, dependsOn: after },
      );
    const adminSecret = secret("grafana-admin", SECRETS.grafanaAdmin.name, {
      [SECRETS.grafanaAdmin.userKey]: "admin",
      [SECRETS.grafanaAdmin.passwordKey]: this.grafanaAdminPassword,
    });
    const kialiGrafanaSecret = secret("kiali-grafana-viewer", SECRETS.kialiGrafana.name, {
      [SECRETS.kialiGrafana.key]: pulumi.secret(this.grafanaAdminPassword.apply(kialiGrafanaPassword)),
    });
    // Kept in the state: the same key across updates, so Kiali sessions survive them.
    const signingKeySecret = secret("kiali-signing-key", SECRETS.kialiSigningKey.name, {
      [SECRETS.kialiSigningKey.key]: pulumi.secret(args.kialiSigningKey ?? generated("kiali-signing-key")),
    });
    const publicHost = args.publicHost ? { publicHost: args.publicHost } : {};
    const grafana = release("grafana", meshCharts.grafana, grafanaValues({ ...args.grafana, ...publicHost }), [
      ...after,
      adminSecret,
      kialiGrafanaSecret,
      prometheus,
    ]);

    const kiali = release("kiali", meshCharts.kiali, kialiValues({ ...args.kiali, ...publicHost }), [
      ...after,
      kialiGrafanaSecret,
      signingKeySecret,
      prometheus,
      grafana,
      jaeger,
    ]);

    const route = args.kialiRoute;
    for (const object of route?.objects ?? []) {
      new k8s.apiextensions.CustomResource(
        // Named after the object (`kiali` for the classic Gateway and VirtualService, as before).
        named(object.metadata.name, object.kind.toLowerCase()),
        { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
        { ...child, dependsOn: [kiali, grafana, ...(route ? [route.gateway] : [])] },
      );
    }

    this.registerOutputs({});
  }

  /** Badger needs its volume: a Cinder-backed claim the Deployment mounts (its strategy is Recreate). */
  private traceStorage(
    args: ObservabilityArgs,
    named: (...parts: string[]) => string,
    after: pulumi.Resource[],
  ): { settings: { storage: TraceStorage; resources: Resources }; claim: pulumi.Resource[] } {
    const { storage, resources } = args.jaeger;
    if (storage.type === "memory") return { settings: { storage, resources }, claim: [] };
    const claimName = "jaeger-traces";
    const claim = new k8s.core.v1.PersistentVolumeClaim(
      named("jaeger-traces"),
      {
        metadata: { name: claimName, namespace: ISTIO_NAMESPACE },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: storage.size } },
          ...(storage.storageClass ? { storageClassName: storage.storageClass } : {}),
        },
      },
      { parent: this, dependsOn: after },
    );
    return {
      settings: { storage: { type: "badger", claimName, retention: storage.retention }, resources },
      claim: [claim],
    };
  }
}
