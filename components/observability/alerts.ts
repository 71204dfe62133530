/**
 * Alerting rules for the mesh's golden signals and its control plane, as Prometheus rule groups
 * (the prometheus chart's serverFiles."alerting_rules.yml"). Metric names are Istio's own
 * (istio/istio release-1.31: pilot/pkg/xds/monitoring.go, pkg/xds/monitoring.go,
 * security/pkg/server/ca/monitoring.go, the agent's istio_agent_ prefix) and the standard
 * istio_requests_total / istio_request_duration_milliseconds. tests/observability.test.ts proves the rules
 * fire on the series they are about, with the real promtool.
 */

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** L7 metrics come from the destination's sidecar, or from a waypoint in ambient mode. */
const SERVER_SIDE = 'reporter=~"destination|waypoint"';
const BY_SERVICE = "destination_service_namespace, destination_service";

export function alertingRules(): { readonly groups: readonly RuleGroup[] } {
  return {
    groups: [
      {
        name: "istio-golden-signals",
        rules: [
          {
            alert: "IstioServiceHigh5xxRate",
            // At least one request every 10 s, so one failed request of three is not an incident.
            expr: [
              `sum by (${BY_SERVICE}) (rate(istio_requests_total{${SERVER_SIDE}, response_code=~"5.."}[5m]))`,
              `  / sum by (${BY_SERVICE}) (rate(istio_requests_total{${SERVER_SIDE}}[5m])) > 0.05`,
              `and sum by (${BY_SERVICE}) (rate(istio_requests_total{${SERVER_SIDE}}[5m])) > 0.1`,
            ].join("\n"),
            for: "5m",
            labels: { severity: "critical" },
            annotations: {
              summary:
                "{{ $labels.destination_service }} answers {{ $value | humanizePercentage }} of requests with 5xx",
              description: "More than 5% of the requests to this service failed with a 5xx status for 5 minutes.",
            },
          },
          {
            alert: "IstioServiceHighLatency",
            expr: `histogram_quantile(0.99, sum by (${BY_SERVICE}, le) (rate(istio_request_duration_milliseconds_bucket{${SERVER_SIDE}}[5m]))) > 1000`,
            for: "10m",
            labels: { severity: "warning" },
            annotations: {
              summary: "{{ $labels.destination_service }} p99 latency is {{ $value | humanize }} ms",
              description: "The 99th percentile of request durations to this service stayed above 1 s for 10 minutes.",
            },
          },
        ],
      },
      {
        name: "istio-control-plane",
        rules: [
          {
            alert: "IstiodDown",
            expr: 'sum(up{app="istiod"}) == 0 or absent(up{app="istiod"})',
            for: "5m",
            labels: { severity: "critical" },
            annotations: {
              summary: "No istiod is scraped and up",
              description:
                "No istiod answered Prometheus for 5 minutes: no configuration, certificates or sidecar injection for the mesh.",
            },
          },
          {
            alert: "IstiodXdsPushErrors",
            expr: 'sum by (namespace, pod, type) (rate(pilot_xds_pushes{type=~".+_senderr"}[5m])) > 0',
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "{{ $labels.pod }} fails to send {{ $labels.type }} to proxies",
              description: "istiod could not send configuration to some proxies for 5 minutes (pilot_xds_pushes).",
            },
          },
          {
            alert: "IstioXdsRejected",
            expr: "sum by (type) (rate(pilot_total_xds_rejects[5m])) > 0",
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "Proxies reject {{ $labels.type }} configuration from istiod",
              description:
                "Envoy proxies refused configuration istiod sent (pilot_total_xds_rejects): usually an invalid VirtualService, DestinationRule or EnvoyFilter.",
            },
          },
          {
            alert: "IstiodInternalErrors",
            expr: "sum by (namespace, pod) (rate(pilot_total_xds_internal_errors[5m])) > 0",
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "{{ $labels.pod }} reports internal xDS errors",
              description: "istiod hit internal errors while building configuration (pilot_total_xds_internal_errors).",
            },
          },
          {
            alert: "IstioSidecarInjectionFailures",
            expr: "sum(rate(sidecar_injection_failure_total[5m])) > 0",
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "Sidecar injection fails",
              description:
                "istiod's injection webhook failed to inject pods for 5 minutes (sidecar_injection_failure_total).",
            },
          },
          {
            alert: "IstioRootCertificateExpiresSoon",
            expr: "min by (namespace, pod) (citadel_server_root_cert_expiry_timestamp) - time() < 30 * 86400",
            labels: { severity: "critical" },
            annotations: {
              summary: "The mesh's root certificate expires in {{ $value | humanizeDuration }}",
              description:
                "istiod's root CA expires within 30 days; every workload certificate chains to it. Rotate it (docs/operations.md).",
            },
          },
          {
            alert: "IstioWorkloadCertificateExpiresSoon",
            // Workload certificates live 24 h and are renewed at about half-life: under 1 h left means renewal is failing.
            expr: 'min by (namespace, pod) (istio_agent_cert_expiry_seconds{resource_name="default"}) < 3600',
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary:
                "{{ $labels.namespace }}/{{ $labels.pod }}'s workload certificate expires in {{ $value | humanizeDuration }}",
              description: "The proxy could not renew its mTLS certificate from istiod.",
            },
          },
        ],
      },
      {
        name: "prometheus",
        rules: [
          {
            alert: "PrometheusTargetDown",
            expr: "up == 0",
            for: "10m",
            labels: { severity: "warning" },
            annotations: {
              summary: "{{ $labels.job }} target {{ $labels.instance }} is down",
              description: "Prometheus could not scrape this target for 10 minutes: its metrics and alerts are blind.",
            },
          },
        ],
      },
    ],
  };
}

/** One Alertmanager receiver without its name: integration (`webhook_configs`, `slack_configs`, ...) to its configs. */
export type AlertmanagerReceiver = Readonly<Partial<Record<string, readonly Readonly<Record<string, unknown>>[]>>>;

/**
 * The whole alertmanager.yml: every alert to the stack's receiver, grouped per alert and service.
 * It may carry credentials (webhook URLs, API keys), so it lives in a Secret, never a ConfigMap.
 */
export function alertmanagerConfig(receiver: AlertmanagerReceiver): Record<string, unknown> {
  return {
    route: {
      receiver: "default",
      group_by: ["alertname", "namespace", "destination_service"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
    },
    receivers: [{ name: "default", ...receiver }],
  };
}
