/**
 * Keys of the observability stack (components/observability): Prometheus, Grafana, Kiali, Jaeger.
 * Cross-key rules live in stacks/meshChecks.ts.
 */
import { z } from "zod";
import { key } from "../spec";
import { dnsLabel } from "../types";
import { containerResources, quantity } from "./mesh";

/** Alertmanager's receiver integrations (prometheus.io Alertmanager configuration, <receiver>). */
const ALERTMANAGER_INTEGRATIONS = [
  "discord_configs",
  "email_configs",
  "incidentio_configs",
  "jira_configs",
  "msteams_configs",
  "msteamsv2_configs",
  "opsgenie_configs",
  "pagerduty_configs",
  "pushover_configs",
  "rocketchat_configs",
  "slack_configs",
  "sns_configs",
  "telegram_configs",
  "victorops_configs",
  "webex_configs",
  "webhook_configs",
  "wechat_configs",
] as const;

const duration = z.string().regex(/^\d+(h|d|w|y)$/, "expected a duration such as 12h, 15d, 4w or 1y");

export const observabilityKeys = {
  prometheusRetention: key({
    type: "string",
    description: "How long Prometheus keeps metrics (e.g. 15d).",
    schema: duration,
    default: { perEnvironment: { dev: "7d", staging: "15d", prod: "30d" } },
  }),
  prometheusStorageSize: key({
    type: "string",
    description: "Size of Prometheus's persistent volume (a Cinder volume through the CSI driver), e.g. 50Gi.",
    schema: quantity,
    default: { perEnvironment: { dev: "10Gi", staging: "50Gi", prod: "100Gi" } },
  }),
  prometheusStorageClass: key({
    type: "string",
    description: "StorageClass of Prometheus's volume. Unset: the cluster's default StorageClass.",
    schema: dnsLabel(63),
    optional: true,
  }),
  kialiAuthStrategy: key({
    type: "string",
    description:
      "Kiali login: token (a Kubernetes service-account token) or anonymous (anyone who reaches it; dev only unless allowAnonymousKiali).",
    schema: z.enum(["token", "anonymous"]),
    default: "token",
  }),
  allowAnonymousKiali: key({
    type: "boolean",
    description:
      "Accept kialiAuthStrategy anonymous outside dev (the policy pack's kiali-not-anonymous must then be lowered to advisory too). Off: staging and prod refuse it.",
    schema: z.boolean(),
    default: false,
  }),
  kialiHost: key({
    type: "string",
    description:
      "Expose Kiali through the ingress gateway under this host name, over TLS (needs kialiTlsSecret). Unset: port-forward only.",
    schema: z
      .string()
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/,
        "expected a lowercase DNS host name such as kiali.example.com",
      ),
    optional: true,
  }),
  kialiTlsSecret: key({
    type: "string",
    description: "kubernetes.io/tls Secret in ingressGatewayNamespace holding the certificate for kialiHost.",
    schema: dnsLabel(63),
    optional: true,
  }),
  grafanaDashboardsUrl: key({
    type: "string",
    description:
      "Folder Grafana downloads the Istio dashboards from when it starts (files as in Istio's manifests/addons/dashboards). Unset: Istio's own, at the tag of the Istio version in use. For an air-gapped cloud: a mirror of that folder. A failed download fails the deploy.",
    schema: z.url({
      protocol: /^https?$/,
      error: "expected an http(s) URL of a folder such as https://mirror.example.com/istio/1.31.1/dashboards",
    }),
    optional: true,
  }),
  alertmanagerReceiver: key({
    type: "string",
    yamlDocument: true,
    secret: true,
    description:
      "Install Alertmanager and send every alert to this receiver: a YAML map of Alertmanager integrations to their configs, e.g. {webhook_configs: [{url: https://...}]} or {slack_configs: [...]}. Kept in a Secret (it may hold credentials). Unset: no Alertmanager; alerts show in Prometheus. Set with --secret.",
    schema: z
      .partialRecord(z.enum(ALERTMANAGER_INTEGRATIONS), z.array(z.record(z.string(), z.unknown())).min(1))
      .refine((receiver) => Object.keys(receiver).length > 0, "name at least one integration, e.g. webhook_configs"),
    optional: true,
  }),
  jaegerStorage: key({
    type: "string",
    description:
      "Where Jaeger keeps traces: memory (lost when its pod restarts; bounded) or badger (on a Cinder volume of jaegerStorageSize, kept across restarts for jaegerRetention).",
    schema: z.enum(["memory", "badger"]),
    default: { perEnvironment: { dev: "memory", staging: "badger", prod: "badger" } },
  }),
  jaegerStorageSize: key({
    type: "string",
    description: "Size of Jaeger's volume with jaegerStorage badger (a Cinder volume through the CSI driver).",
    schema: quantity,
    default: { perEnvironment: { dev: "5Gi", staging: "10Gi", prod: "20Gi" } },
  }),
  jaegerStorageClass: key({
    type: "string",
    description: "StorageClass of Jaeger's volume. Unset: the cluster's default StorageClass.",
    schema: dnsLabel(63),
    optional: true,
  }),
  jaegerRetention: key({
    type: "string",
    description: "How long Badger keeps spans, in hours (e.g. 72h).",
    schema: z.string().regex(/^[1-9]\d*h$/, "expected a whole number of hours such as 72h"),
    default: { perEnvironment: { dev: "24h", staging: "72h", prod: "168h" } },
  }),
  jaegerResources: key({
    type: "string",
    yamlDocument: true,
    description: "Jaeger's container resources, as YAML {requests: {cpu, memory}, limits: {cpu, memory}}.",
    schema: containerResources,
    default: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  }),
  kialiViewOnly: key({
    type: "boolean",
    description:
      "Kiali shows the mesh but cannot change it (deployment.view_only_mode; its service account gets the read-only role). Off: Kiali's users may edit Istio config through it, within their own RBAC.",
    schema: z.boolean(),
    default: true,
  }),
  grafanaAdminPassword: key({
    type: "string",
    secret: true,
    description:
      "Grafana's admin password (user admin). Unset: generated (@pulumi/random) and kept in the state; read it from the Secret grafana-admin. Set with --secret.",
    schema: z.string().min(16, "must be at least 16 characters"),
    optional: true,
  }),
  kialiSigningKey: key({
    type: "string",
    secret: true,
    description:
      "Key Kiali signs its login sessions with: 16, 24 or 32 characters. Unset: generated (@pulumi/random) once and kept, so sessions survive updates. Set with --secret.",
    schema: z
      .string()
      .refine((value) => [16, 24, 32].includes(Buffer.byteLength(value)), "must be exactly 16, 24 or 32 bytes long"),
    optional: true,
  }),
};
