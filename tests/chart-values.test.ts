// Every value the program gives a chart, checked against that chart's own data (../shared/charts):
// Helm ignores what a chart does not read, so a misspelt or moved value would silently do nothing.
// The stacks are evaluated as `pulumi up` runs them (mocks); every Helm release they create is checked.
import { clusterCharts, meshCharts, type PinnedChart } from "../lib/versions";
import {
  CHART_RULES,
  chartData,
  KNOWN_DATA_GAPS,
  type PathFinding,
  schemaErrors,
  unknownPaths,
  versionGap,
} from "./chartValues";
import { evaluateStack } from "./harness";

interface Scenario {
  readonly name: string;
  readonly stack: string;
  readonly overrides?: Record<string, unknown>;
  readonly secretKeys?: string[];
}

/** The committed stacks, and the variants that change what the charts are given. */
const SCENARIOS: readonly Scenario[] = [
  { name: "dev", stack: "dev" },
  { name: "staging", stack: "staging" },
  { name: "prod", stack: "prod" },
  {
    name: "prod with kialiHost",
    stack: "prod",
    overrides: { kialiHost: "kiali.example.com", kialiTlsSecret: "kiali-tls" },
  },
  {
    name: "staging with Alertmanager",
    stack: "staging",
    overrides: { alertmanagerReceiver: { webhook_configs: [{ url: "https://alerts.example.com/hook" }] } },
    secretKeys: ["alertmanagerReceiver"],
  },
  { name: "prod on Octavia's OVN provider", stack: "prod", overrides: { loadBalancerProvider: "ovn" } },
  { name: "dev without Octavia", stack: "dev", overrides: { loadBalancerProvider: "none" } },
  {
    name: "prod in ambient mode with Gateway API ingress, waypoints and an egress waypoint",
    stack: "prod",
    overrides: {
      meshDataplaneMode: "ambient",
      ingressApi: "gateway-api",
      meshNamespaces: { shop: "prod-stable" },
      meshWaypoints: ["shop"],
      egressGateway: true,
    },
  },
  {
    name: "dev on an existing cluster",
    stack: "dev",
    overrides: {
      clusterMode: "existing",
      existingKubeconfig: "apiVersion: v1\nkind: Config\n",
      keystoneUrl: undefined,
    },
    secretKeys: ["existingKubeconfig"],
  },
];

/**
 * Findings on main when the checker landed, each to be removed by the change that fixes it (the
 * test demands the exact list, so a fix that forgets its entry fails too).
 */
const UNTIL_FIXED: Readonly<Record<string, readonly string[]>> = {
  // First run (main @e055b33) found: jaeger provisionDataStore.{cassandra,elasticsearch,kafka} (not in
  // chart 4.x; fixed with Jaeger's userconfig) and kiali-server istio_namespace (removed in Kiali 2.14).
};

interface SeenRelease {
  readonly scenario: string;
  readonly release: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, never>;
}

const chartName = (reference: string) => reference.split("/").pop() ?? reference;
const allPins: readonly PinnedChart[] = [...Object.values(clusterCharts), ...Object.values(meshCharts)];
const pins = allPins.filter((pin) => !CHART_RULES[pin.chart]?.withoutData);
const seen: SeenRelease[] = [];

beforeAll(async () => {
  for (const scenario of SCENARIOS) {
    const run = await evaluateStack(scenario.stack, scenario.overrides ?? {}, {
      secretKeys: scenario.secretKeys ?? [],
    });
    // Helm releases, and charts the provider renders itself (helm.v4.Chart): both take values.
    for (const release of [
      ...run.ofType("kubernetes:helm.sh/v3:Release"),
      ...run.ofType("kubernetes:helm.sh/v4:Chart"),
    ]) {
      seen.push({
        scenario: scenario.name,
        release: release.name,
        chart: chartName(String(release.inputs.chart)),
        version: String(release.inputs.version),
        values: (release.inputs.values ?? {}) as Record<string, never>,
      });
    }
  }
}, 120_000);

describe("chart values against the charts' own data (../shared/charts)", () => {
  it("every chart a stack installs has data and rules (tests/chartValues.ts)", () => {
    const charts = [...new Set(seen.map((r) => r.chart))].sort();
    expect(charts.length).toBeGreaterThan(8);
    expect(charts.filter((chart) => !(chart in CHART_RULES))).toEqual([]);
  });

  describe.each(pins.map((pin) => [pin.chart, pin.version, chartData(pin.chart).version] as const))(
    "%s (pinned %s), checked against chart data %s",
    (chart) => {
      const releases = () => seen.filter((r) => r.chart === chart);

      it("every leaf value path exists in the chart, its schema, or a documented free-form map", () => {
        expect(releases().length).toBeGreaterThan(0);
        const findings = new Map<string, PathFinding & { where: string[] }>();
        for (const r of releases()) {
          for (const finding of unknownPaths(chart, r.values)) {
            const entry = findings.get(finding.path) ?? { ...finding, where: [] };
            entry.where.push(`${r.scenario}: ${r.release}`);
            findings.set(finding.path, entry);
          }
        }
        const unexpected = [...findings.values()].filter((f) => !(UNTIL_FIXED[chart] ?? []).includes(f.path));
        expect(unexpected.map((f) => `${f.path}: ${f.problem} (${f.where.join("; ")})`)).toEqual([]);
        expect([...findings.keys()].sort()).toEqual([...(UNTIL_FIXED[chart] ?? [])].sort());
      });

      it("the values, merged with the chart's defaults, validate against values.schema.json where it has one", () => {
        const errors = releases().flatMap((r) =>
          schemaErrors(chart, r.values).map((e) => `${r.scenario}: ${r.release}: ${e}`),
        );
        expect(errors).toEqual([]);
      });
    },
  );

  it("charts without data here are named, each with the reason (a gap that cannot grow silently)", () => {
    expect(allPins.filter((pin) => CHART_RULES[pin.chart]?.withoutData).map((pin) => pin.chart)).toEqual([
      "kubelet-csr-approver",
    ]);
  });

  it("pins that differ from the data are known gaps, each with its reason (never passed silently)", () => {
    const installed = [...new Map(seen.map((r) => [`${r.chart}@${r.version}`, r])).values()].filter(
      (r) => !CHART_RULES[r.chart]?.withoutData,
    );
    const gaps = installed
      .map((r) => versionGap(r.chart, r.version))
      .filter((gap) => gap !== undefined)
      .map((gap) => ({ chart: gap.chart, pinned: gap.pinned, data: gap.data }))
      .sort((a, b) => a.chart.localeCompare(b.chart));
    const acknowledged = KNOWN_DATA_GAPS.map(({ chart, pinned, data }) => ({ chart, pinned, data })).sort((a, b) =>
      a.chart.localeCompare(b.chart),
    );
    // A difference here: a pin moved or the data was updated; update KNOWN_DATA_GAPS with the reason.
    expect(gaps).toEqual(acknowledged);
  });
});

describe("the checker itself", () => {
  it("reports a misspelt path, accepts defaults, schema-declared paths and documented free-form maps", () => {
    expect(unknownPaths("kiali-server", { deployment: { view_only_mode: true, viewOnlyMode: true } })).toEqual([
      expect.objectContaining({ path: "deployment.viewOnlyMode" }),
    ]);
    // gateway: podDisruptionBudget.minAvailable is only in the chart's schema; annotations are free-form.
    expect(
      unknownPaths("gateway", {
        podDisruptionBudget: { minAvailable: 1 },
        service: { annotations: { "loadbalancer.openstack.org/proxy-protocol": "true" } },
        replicaCount: 2,
      }),
    ).toEqual([]);
    expect(
      unknownPaths("grafana", { dashboards: { istio: { mesh: { url: "https://x/y.json", gnetid: 1 } } } }),
    ).toEqual([expect.objectContaining({ path: "dashboards.istio.mesh.gnetid" })]);
  });

  it("validates against the schema after Helm's merge with the defaults", () => {
    expect(schemaErrors("gateway", { replicaCount: 2 })).toEqual([]);
    expect(schemaErrors("gateway", { replicaCount: "two" }).join("\n")).toMatch(/replicaCount/);
    expect(schemaErrors("prometheus", { server: { extraFlags: [1] } }).join("\n")).toMatch(/extraFlags/);
  });
});
