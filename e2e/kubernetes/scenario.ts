/**
 * The scenario of `npm run e2e:kubernetes`: the program's Kubernetes layer (clusterMode existing:
 * Istio, mesh policy, observability, the program's own objects) deployed by the real Pulumi CLI and
 * the Kubernetes provider into a real kube-apiserver, with the charts replaced by stand-ins
 * (standins.ts). Every step is asserted on the engine's report (preview/up JSON, the state) and on
 * what the API server holds. One stack at a time in the one cluster: a dev-like and a prod-like one.
 */
import { stringify as toYaml } from "yaml";
import { meshCharts } from "../../lib/versions";
import { configKeys } from "../../stacks/keys";
import { AssertionError, assert, assertEqual, assertNoChanges, changed, describe, eventually } from "../lib/assert";
import type { Bench } from "../lib/bench";
import { log } from "../lib/bench";
import { type Plan, type PlannedResource, plan as runPlan } from "../lib/plan";
import type { OperationResult, PulumiProject, StateResource } from "../lib/pulumi";
import type { StandInLoadBalancer } from "./cloudStandIns";
import { canonical, subsetMismatches } from "./compare";
import type { KubeApi, KubeObject } from "./kubeApi";
import { type StandInRepository, VALUES_CONFIGMAP_PREFIX } from "./standins";

export interface Context {
  readonly repoRoot: string;
  /** This run's work directory (plans, project, backend). */
  readonly workDir: string;
  readonly pulumi: PulumiProject;
  readonly bench: Bench;
  readonly api: KubeApi;
  readonly repo: StandInRepository;
  readonly loadBalancer: StandInLoadBalancer;
  /** kubeadm's admin.conf of the ring's API server: the stacks' existingKubeconfig (a secret). */
  readonly kubeconfig: string;
  /** Cluster-scoped objects before any stack (what destroy must return to). */
  readonly baseline: ClusterSnapshot;
}

/** A config change and exactly what its preview and up must do. */
export interface Change {
  readonly what: string;
  readonly overrides: Record<string, unknown>;
  /** Sorted "op type name" steps (describe()). */
  readonly expected: string;
}

export interface StackScenario {
  readonly stack: string;
  readonly config: Record<string, unknown>;
  readonly changes: readonly Change[];
}

const RELEASE = "kubernetes:helm.sh/v3:Release";
const MWC = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration";
const SERVICE = "kubernetes:core/v1:Service";

/** Every chart the program may install in existing mode: each is pointed at the stand-in repository. */
const MESH_CHARTS = Object.values(meshCharts).map((pinned) => pinned.chart);

/** Istio's own canary flow: the running revision, and the canary the tags move to. */
export const OLD_ISTIO = "1.31.0";
export const NEW_ISTIO = "1.31.1";

/** Secret config keys the ring gives when the program declares them (no generated secrets then). */
const GIVEN_SECRETS: Readonly<Record<string, string>> = {
  grafanaAdminPassword: "e2e-grafana-admin-password-local-only",
  kialiSigningKey: "e2e-kiali-signing-key-32-chars!!",
};

function common(stack: string, repoUrl: string): Record<string, unknown> {
  return {
    clusterMode: "existing",
    clusterName: stack,
    // Declared by Pulumi.yaml for every stack; not used in existing mode.
    adminCidrs: ["203.0.113.0/24"],
    chartRepositories: toYaml(Object.fromEntries(MESH_CHARTS.map((chart) => [chart, repoUrl]))),
  };
}

/** dev: the defaults of a first cluster, an application namespace, a plaintext exception. */
export function devScenario(repoUrl: string): StackScenario {
  const stack = "e2e-dev";
  const config = {
    ...common(stack, repoUrl),
    environment: "dev",
    meshNamespaces: toYaml({ "e2e-shop": "default" }),
    meshPermissiveNamespaces: ["e2e-shop"],
  };
  return {
    stack,
    config,
    changes: [
      {
        what: "gateway replicas 1 -> 2 (autoscaling up to 3)",
        overrides: { ingressGatewayReplicas: 2, ingressGatewayMaxReplicas: 3 },
        expected: `update ${RELEASE} ${stack}-istio-ingressgateway`,
      },
      {
        what: "Prometheus retention 7d -> 14d",
        overrides: { ingressGatewayReplicas: 2, ingressGatewayMaxReplicas: 3, prometheusRetention: "14d" },
        expected: `update ${RELEASE} ${stack}-prometheus`,
      },
    ],
  };
}

/** prod: a canary upgrade in progress (two revisions), egress gateway, Kiali behind the ingress. */
export function prodScenario(repoUrl: string): StackScenario {
  const stack = "e2e-prod";
  const tags = (prodStable: string) => toYaml({ default: OLD_ISTIO, "prod-stable": prodStable });
  const config = {
    ...common(stack, repoUrl),
    environment: "prod",
    istioRevisions: [OLD_ISTIO, NEW_ISTIO],
    istioRevisionTags: tags(OLD_ISTIO),
    meshNamespaces: toYaml({ "e2e-payments": "prod-stable" }),
    egressGateway: true,
    kialiHost: "kiali.e2e.example.com",
    kialiTlsSecret: "kiali-tls",
  };
  const tagged = (kind: string) => `update ${kind} ${stack}-revision-tag-prod-stable`;
  return {
    stack,
    config,
    changes: [
      {
        what: `canary: revision tag prod-stable ${OLD_ISTIO} -> ${NEW_ISTIO}`,
        overrides: { istioRevisionTags: tags(NEW_ISTIO) },
        expected: [tagged(MWC), tagged(SERVICE)].sort().join("; "),
      },
    ],
  };
}

/**
 * ambient (staging): ztunnel and istio-cni, a waypoint for an application namespace, the egress
 * gateway as a waypoint, the Gateway API CRDs the program installs (and keeps on destroy).
 */
export function ambientScenario(repoUrl: string): StackScenario {
  const stack = "e2e-ambient";
  const config = {
    ...common(stack, repoUrl),
    environment: "staging",
    meshDataplaneMode: "ambient",
    meshNamespaces: toYaml({ "e2e-orders": "default" }),
    meshWaypoints: ["e2e-orders"],
    egressGateway: true,
  };
  return {
    stack,
    config,
    changes: [
      {
        what: "waypoint replicas 2 -> 3",
        overrides: { meshWaypointReplicas: 3 },
        // Waypoints are deployed by istiod from its values (their Deployment template).
        expected: `update ${RELEASE} ${stack}-istiod-${NEW_ISTIO.replace(/\./g, "-")}`,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// What the API server holds.

/** Names of the cluster-scoped objects that tell whether anything of a stack is left. */
export type ClusterSnapshot = Record<string, string[]>;

const CLUSTER_SCOPED: Readonly<Record<string, string>> = {
  namespaces: "/api/v1/namespaces",
  customresourcedefinitions: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
  mutatingwebhookconfigurations: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
  validatingwebhookconfigurations: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
  clusterroles: "/apis/rbac.authorization.k8s.io/v1/clusterroles",
  clusterrolebindings: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
  validatingadmissionpolicies: "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
  validatingadmissionpolicybindings: "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
};

/** The collection (CLUSTER_SCOPED's key) of a cluster-scoped kind the program may keep on destroy. */
const COLLECTION_OF_KIND: Readonly<Record<string, string>> = {
  CustomResourceDefinition: "customresourcedefinitions",
  ValidatingAdmissionPolicy: "validatingadmissionpolicies",
  ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
};

/** What the plan keeps on destroy on purpose (retainOnDelete), as collection/name. */
function retainedByPlan(planned: Plan): string[] {
  return planned.resources
    .filter((r) => r.options?.retainOnDelete)
    .map((r) => {
      const { kind, metadata } = r.inputs as { kind?: string; metadata?: { name?: string } };
      const collection = kind ? COLLECTION_OF_KIND[kind] : undefined;
      if (!collection || !metadata?.name)
        throw new AssertionError(`${r.type} ${r.name} is kept on destroy, but the ring cannot check a ${kind} is left`);
      return `${collection}/${metadata.name}`;
    });
}

export async function clusterSnapshot(api: KubeApi): Promise<ClusterSnapshot> {
  const snapshot: ClusterSnapshot = {};
  for (const [kind, apiPath] of Object.entries(CLUSTER_SCOPED)) {
    snapshot[kind] = (await api.list(apiPath)).map((o) => o.metadata.name).sort();
  }
  return snapshot;
}

const RESOURCE_POLICY = "helm.sh/resource-policy";

/**
 * After a destroy: nothing of the stack is left on the API server, except what is kept on purpose:
 * CRDs their chart marks `helm.sh/resource-policy: keep` (Istio's base, so other teams' custom
 * resources survive) and what the program itself keeps (retainOnDelete: the Gateway API CRDs and
 * their admission policy). Kept CRDs must hold no object any more. Then the kept objects are deleted,
 * as Istio's and Gateway API's uninstall guides do, so the next stack starts from the baseline.
 * Returns what was kept.
 */
async function assertNothingLeft(ctx: Context, planned: Plan, what: string): Promise<string[]> {
  const { api, baseline } = ctx;
  const retained = retainedByPlan(planned);
  let kept: string[] = [];
  await eventually(`${what}: nothing left in the cluster`, 120, async () => {
    const now = await clusterSnapshot(api);
    const crds = await api.list(CLUSTER_SCOPED.customresourcedefinitions);
    const keptByChart = (name: string) =>
      crds.find((c) => c.metadata.name === name)?.metadata.annotations?.[RESOURCE_POLICY] === "keep";
    const fresh = Object.entries(now).flatMap(([collection, names]) =>
      names.filter((n) => !baseline[collection].includes(n)).map((n) => `${collection}/${n}`),
    );
    const unexpected = fresh.filter(
      (entry) =>
        !retained.includes(entry) &&
        !(entry.startsWith("customresourcedefinitions/") && keptByChart(entry.split("/")[1])),
    );
    assertEqual(unexpected, [], `${what}: left on the API server, neither kept by a chart nor retained by the program`);
    kept = fresh;
  });
  for (const entry of kept.filter((e) => e.startsWith("customresourcedefinitions/"))) {
    const crd = (await api.get(`${CLUSTER_SCOPED.customresourcedefinitions}/${entry.split("/")[1]}`)) as KubeObject & {
      spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
    };
    const version = crd.spec.versions.find((v) => v.served)?.name;
    const objects = await api.list(`/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}`);
    assertEqual(
      objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      [],
      `${what}: objects of the kept CRD ${entry}`,
    );
  }
  if (kept.length > 0) {
    log(`${what}: kept on purpose: ${kept.length} objects; deleting them as the uninstall guides do`);
    for (const entry of kept) {
      const [collection, name] = entry.split("/");
      await api.delete(`${CLUSTER_SCOPED[collection]}/${name}`);
    }
    await eventually(`${what}: kept objects deleted`, 120, async () => {
      const now = await clusterSnapshot(api);
      const left = kept.filter((entry) => now[entry.split("/")[0]].includes(entry.split("/")[1]));
      assertEqual(left, [], `${what}: still there after their deletion`);
    });
  }
  return kept;
}

// ---------------------------------------------------------------------------------------------
// Comparisons of the plan with the state and with the API server.

const entries = (resources: readonly { type: string; name: string }[]) =>
  resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => `${r.type} ${r.name}`)
    .sort();

const stateName = (r: StateResource) => r.urn.split("::").slice(3).join("::");

function assertStateMatchesPlan(state: readonly StateResource[], planned: Plan, what: string): void {
  const inState = entries(state.map((r) => ({ type: r.type, name: stateName(r) })));
  const inPlan = entries(planned.resources);
  const missing = inPlan.filter((e) => !inState.includes(e));
  const extra = inState.filter((e) => !inPlan.includes(e));
  assert(
    missing.length === 0 && extra.length === 0,
    `${what}: the state differs from the offline plan; planned but not in the state: ${missing.join(", ") || "none"}; in the state but not planned: ${extra.join(", ") || "none"}`,
  );
}

function plannedReleases(planned: Plan) {
  return Object.entries(planned.releases).map(([logical, release]) => ({ logical, ...release }));
}

/** The values each release received (its stand-in's ConfigMap) hold every value of the plan. */
async function assertReleasesReceivedPlan(ctx: Context, planned: Plan, what: string): Promise<number> {
  const problems: string[] = [];
  for (const release of plannedReleases(planned)) {
    const configMap = (await ctx.api.find(
      `/api/v1/namespaces/${release.namespace}/configmaps/${VALUES_CONFIGMAP_PREFIX}${release.name}`,
    )) as (KubeObject & { data?: Record<string, string> }) | undefined;
    if (!configMap?.data) {
      problems.push(
        `${release.logical}: no ConfigMap ${VALUES_CONFIGMAP_PREFIX}${release.name} in ${release.namespace}`,
      );
      continue;
    }
    if (configMap.data.chart !== `${release.chart}-${release.version}`) {
      problems.push(`${release.logical}: chart ${configMap.data.chart}, planned ${release.chart}-${release.version}`);
    }
    const received = JSON.parse(configMap.data["values.json"] ?? "null") as unknown;
    // Helm replaces lists wholesale: a planned list must arrive as it is.
    problems.push(
      ...subsetMismatches(release.values, received, { lists: "exact" }).map((m) => `${release.logical}: ${m}`),
    );
  }
  assert(
    problems.length === 0,
    `${what}: values received by the releases differ from the plan:\n  ${problems.join("\n  ")}`,
  );
  return Object.keys(planned.releases).length;
}

/** Kubernetes objects the program creates itself (not through a chart, not read). */
function ownObjects(planned: Plan): PlannedResource[] {
  return planned.resources.filter(
    (r) =>
      r.custom &&
      r.type.startsWith("kubernetes:") &&
      r.type !== RELEASE &&
      typeof r.inputs.apiVersion === "string" &&
      typeof r.inputs.kind === "string" &&
      // Service.get (the ingress address) reads the chart's Service; its inputs are not an object.
      (r.inputs.metadata as { name?: string } | undefined)?.name !== undefined,
  );
}

/**
 * Every object the program creates itself is on the API server as planned: custom resources
 * accepted by the real CRDs with nothing pruned, labels and specs as the plan says (the server may
 * add defaults). Secrets: the keys only (the plan masks their values).
 */
async function assertOwnObjectsLive(ctx: Context, planned: Plan, what: string): Promise<string> {
  const problems: string[] = [];
  const objects = ownObjects(planned);
  for (const resource of objects) {
    const { apiVersion, kind, metadata } = resource.inputs as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace?: string };
    };
    const collection = await ctx.api.resourcePath(apiVersion, kind, metadata.namespace);
    const live = await ctx.api.find(`${collection}/${metadata.name}`);
    if (!live) {
      problems.push(
        `${kind} ${metadata.namespace ? `${metadata.namespace}/` : ""}${metadata.name}: not on the API server`,
      );
      continue;
    }
    const { apiVersion: _a, kind: _k, stringData, ...rest } = resource.inputs;
    const expected = kind === "Secret" ? { metadata: rest.metadata } : rest;
    problems.push(
      ...subsetMismatches(expected, live, { lists: "elementwise" }).map((m) => `${kind} ${metadata.name}: ${m}`),
    );
    if (kind === "Secret" && stringData && typeof stringData === "object") {
      const keys = Object.keys((live as { data?: object }).data ?? {}).sort();
      if (canonical(keys) !== canonical(Object.keys(stringData).sort()))
        problems.push(`Secret ${metadata.name}: keys ${keys.join(",")}, planned ${Object.keys(stringData).join(",")}`);
    }
  }
  assert(problems.length === 0, `${what}: the API server's objects differ from the plan:\n  ${problems.join("\n  ")}`);
  const kinds = [...new Set(objects.map((r) => String(r.inputs.kind)))].sort();
  return `${objects.length} objects (${kinds.join(", ")})`;
}

async function assertOutputs(ctx: Context, stack: string, config: Record<string, unknown>): Promise<void> {
  const outputs = await ctx.pulumi.outputs(stack);
  const namespace = String(config.ingressGatewayNamespace ?? "istio-ingress");
  const address = ctx.loadBalancer.assigned.get(`${namespace}/istio-ingressgateway`);
  assert(address, `the stand-in load balancer gave ${namespace}/istio-ingressgateway no address`);
  const mesh = outputs.mesh as { ingressGateway?: { address?: unknown } } | undefined;
  assertEqual(mesh?.ingressGateway?.address, address, "output mesh.ingressGateway.address (the Service's address)");
  assertEqual(outputs.kubeconfig, "[secret]", "output kubeconfig is a secret");
}

// ---------------------------------------------------------------------------------------------
// One stack, from nothing to nothing.

async function planStack(ctx: Context, stack: string, label: string): Promise<Plan> {
  const planned = await runPlan(
    ctx.repoRoot,
    ctx.pulumi.stackFile(stack),
    stack,
    `${ctx.workDir}/plans/${stack}-${label}`,
  );
  const releases = plannedReleases(planned);
  for (const release of releases) {
    assertEqual(release.repositoryOpts?.repo, ctx.repo.url, `${release.logical}: chart source (chartRepositories)`);
  }
  const built = await ctx.repo.ensure(releases.map((r) => ({ chart: r.chart, version: r.version })));
  if (built.length) log(`stand-in charts built: ${built.join(", ")}`);
  return planned;
}

function assertOnly(result: OperationResult, expected: string, what: string): void {
  assertEqual(describe(changed(result.steps)), expected, what);
}

export async function deployStack(ctx: Context, scenario: StackScenario): Promise<void> {
  const { pulumi, bench } = ctx;
  const { stack } = scenario;
  const declared: Record<string, unknown> = configKeys;
  const secrets = Object.entries(GIVEN_SECRETS).filter(([key]) => key in declared);

  await pulumi.initStack(stack);
  pulumi.writeConfig(stack, scenario.config);
  await pulumi.setSecret(stack, "existingKubeconfig", ctx.kubeconfig);
  for (const [key, value] of secrets) await pulumi.setSecret(stack, key, value);
  const planned = await bench.time(
    `${stack}: plan (offline) + stand-in charts`,
    () => planStack(ctx, stack, "up"),
    (p) => `${p.resources.filter((r) => r.custom).length} resources, ${Object.keys(p.releases).length} releases`,
  );

  const up = await bench.time(
    `${stack}: up (create)`,
    () => pulumi.up(stack),
    (r) => JSON.stringify(r.changeSummary),
  );
  const notCreated = changed(up.steps).filter((s) => s.op !== "create");
  assert(notCreated.length === 0, `${stack}: first up: expected only creates, got ${describe(notCreated)}`);
  await bench.time(
    `${stack}: state = plan; values, objects, outputs on the API server`,
    async () => {
      assertStateMatchesPlan(await pulumi.state(stack), planned, `${stack} after up`);
      const releases = await assertReleasesReceivedPlan(ctx, planned, `${stack} after up`);
      const objects = await assertOwnObjectsLive(ctx, planned, `${stack} after up`);
      await assertOutputs(ctx, stack, scenario.config);
      return `${releases} releases, ${objects}`;
    },
    (detail) => detail,
  );

  assertNoChanges(
    await bench.time(`${stack}: preview --expect-no-changes`, () => pulumi.preview(stack, { expectNoChanges: true })),
    `${stack}: preview after up`,
  );
  // A refresh right after an up rewrites the state of the resources the program only reads (the
  // ingress gateway's Service.get): `get` records the object as the provider's last inputs, refresh
  // as a minimal identity, so the first refresh after every up reports them updated. Only reads may
  // change, and only once; drift detection should run `pulumi preview --refresh --expect-no-changes`,
  // which is clean (docs/testing.md).
  const state = await pulumi.state(stack);
  const firstRefresh = await bench.time(
    `${stack}: refresh (after up, only reads may change)`,
    () => pulumi.refresh(stack),
    (r) => describe(changed(r.outcomes)),
  );
  const managedChanges = changed(firstRefresh.outcomes).filter(
    (step) => !state.some((r) => r.urn === step.urn && r.external),
  );
  assert(
    managedChanges.length === 0,
    `${stack}: refresh after up changed managed resources: ${describe(managedChanges)}`,
  );
  assertNoChanges(
    await bench.time(`${stack}: refresh --expect-no-changes`, () => pulumi.refresh(stack, { expectNoChanges: true })),
    `${stack}: second refresh after up`,
  );
  assertNoChanges(
    await bench.time(`${stack}: preview --refresh --expect-no-changes`, () =>
      pulumi.preview(stack, { expectNoChanges: true, refresh: true }),
    ),
    `${stack}: preview --refresh after up`,
  );

  let config = scenario.config;
  let lastPlan = planned;
  for (const [index, change] of scenario.changes.entries()) {
    config = { ...config, ...change.overrides };
    pulumi.writeConfig(stack, config);
    await bench.time(`${stack}: ${change.what}`, async () => {
      const replanned = await planStack(ctx, stack, `change-${index + 1}`);
      lastPlan = replanned;
      assertOnly(await pulumi.preview(stack), change.expected, `${stack}: preview of "${change.what}"`);
      assertOnly(await pulumi.up(stack), change.expected, `${stack}: up of "${change.what}"`);
      assertStateMatchesPlan(await pulumi.state(stack), replanned, `${stack} after "${change.what}"`);
      await assertReleasesReceivedPlan(ctx, replanned, `${stack} after "${change.what}"`);
      await assertOwnObjectsLive(ctx, replanned, `${stack} after "${change.what}"`);
      assertNoChanges(
        await pulumi.preview(stack, { expectNoChanges: true }),
        `${stack}: preview after "${change.what}"`,
      );
    });
  }

  await bench.time(
    `${stack}: destroy`,
    () => pulumi.destroy(stack),
    (r) => JSON.stringify(r.changeSummary),
  );
  assertEqual((await pulumi.state(stack)).filter((r) => r.custom).length, 0, `${stack}: resources left in the state`);
  await bench.time(
    `${stack}: nothing left on the API server`,
    () => assertNothingLeft(ctx, lastPlan, `${stack} after destroy`),
    (kept) => (kept.length ? `${kept.length} kept on purpose (CRDs, admission policy), then deleted` : "nothing"),
  );
  await pulumi.removeStack(stack);
}

/** After a failure or an interruption: destroy whatever the ring's stacks hold (the cluster still runs). */
export async function cleanUp(ctx: Pick<Context, "pulumi">, stacks: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  let existing: { name: string }[] = [];
  try {
    existing = await ctx.pulumi.stacks();
  } catch (error) {
    return [`pulumi stack ls: ${(error as Error).message}`];
  }
  for (const stack of stacks) {
    if (!existing.some((s) => s.name === stack || s.name.endsWith(`/${stack}`))) continue;
    try {
      log(`clean-up: destroying stack ${stack}`);
      await ctx.pulumi.destroy(stack);
      await ctx.pulumi.removeStack(stack);
    } catch (error) {
      problems.push(`destroy ${stack}: ${(error as Error).message}`);
    }
  }
  return problems;
}
