/**
 * Observability: Prometheus (retention and a Cinder volume), Jaeger (the mesh's tracing provider),
 * Grafana (Istio dashboards, an admin password given or generated, a read-only user for Kiali) and
 * Kiali (token auth unless a stack asks, view-only by default, a stable session signing key), all in
 * istio-system. Optionally Kiali and Grafana behind the ingress gateway.
 *
 * None of them needs istiod or another of them to start (each reads the others by URL when asked):
 * they install side by side once the cluster runs pods, Prometheus once volumes can be provisioned,
 * Grafana and Kiali after the Secrets they mount (docs/performance.md).
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
  /** The namespace everything here goes into (istio-system, created by the mesh). */
  readonly namespace: pulumi.Resource;
  /** What pods need first: the pod network and initialised nodes. */
  readonly podsReady: readonly pulumi.Resource[];
  /** What a PersistentVolumeClaim needs (and must outlive it on destroy): the CSI driver. */
  readonly volumesReady: readonly pulumi.Resource[];
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
    const pods = [args.namespace, ...args.podsReady];

    const secret = (what: string, secretName: string, stringData: Record<string, pulumi.Input<string>>) =>
      new k8s.core.v1.Secret(
        named(what),
        { metadata: { name: secretName, namespace: ISTIO_NAMESPACE }, stringData },
        { ...child, dependsOn: [args.namespace] },
      );
    const alerting = args.alertmanagerReceiver
      ? [
          secret("alertmanager-config", SECRETS.alertmanager.name, {
            [SECRETS.alertmanager.key]: pulumi.secret(toYaml(alertmanagerConfig(args.alertmanagerReceiver))),
          }),
        ]
      : [];
    // Its server (and Alertmanager's) keeps its data on a PersistentVolumeClaim of the default
    // StorageClass; Alertmanager mounts its configuration Secret.
    release(
      "prometheus",
      meshCharts.prometheus,
      prometheusValues({ ...args.prometheus, alertmanager: alerting.length > 0 }),
      [...pods, ...args.volumesReady, ...alerting],
    );
    // Badger keeps traces on a claim of its own: the claim needs the CSI driver, the pods the claim.
    const traces = this.traceStorage(args, named, [args.namespace, ...args.volumesReady]);
    release("jaeger", meshCharts.jaeger, jaegerValues(traces.settings), [...pods, ...traces.claim]);

    const generated = (what: string) =>
      new random.RandomPassword(named(what), { length: 32, special: false }, child).result;
    this.grafanaAdminPassword = pulumi.secret(args.grafanaAdminPassword ?? generated("grafana-admin"));
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
    // Its pods mount both Secrets (the admin credential, and the password of Kiali's read-only user).
    const grafana = release("grafana", meshCharts.grafana, grafanaValues({ ...args.grafana, ...publicHost }), [
      ...pods,
      adminSecret,
      kialiGrafanaSecret,
    ]);
    // Mounts its Secrets too. Prometheus, Grafana and Jaeger are only called when a user opens a view.
    const kiali = release("kiali", meshCharts.kiali, kialiValues({ ...args.kiali, ...publicHost }), [
      ...pods,
      kialiGrafanaSecret,
      signingKeySecret,
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
    dependsOn: pulumi.Resource[],
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
      { parent: this, dependsOn },
    );
    return {
      settings: { storage: { type: "badger", claimName, retention: storage.retention }, resources },
      claim: [claim],
    };
  }
}
