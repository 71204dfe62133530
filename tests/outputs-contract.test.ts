import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { PendingPlatformOutput, PlatformOutputs } from "../components/platform/contract";
import { OUTPUT_CONTRACT_VERSION, type StackOutputs } from "../components/platform/outputs";
import { type Evaluation, evaluateStack, ROOT } from "./harness";
import { contractErrors, loadContract, type OutputContract, sampleOutputs } from "./outputs-contract-shape";
import { packViolations } from "./policy-harness";

const contract = loadContract();

// Compile time (tsc in npm test): what stackOutputs() returns and what consumers import
// (PlatformOutputs) agree. Each alias fails to compile, naming the output, when they drift.
type Exported = pulumi.Unwrap<StackOutputs>;
type Shared = keyof Exported & keyof PlatformOutputs;
type Assert<T extends true> = T;
/** An exported output whose type the interface does not allow. */
type ExportedFitsInterface = Assert<Pick<Exported, Shared> extends Pick<PlatformOutputs, Shared> ? true : false>;
type Undeclared = Exclude<keyof Exported, keyof PlatformOutputs>;
/** An output exported but missing from PlatformOutputs. */
type NoUndeclaredOutput = Assert<[Undeclared] extends [never] ? true : false>;
type Unexported = Exclude<keyof PlatformOutputs, keyof Exported | PendingPlatformOutput>;
/** An output PlatformOutputs promises that is neither exported nor pending. */
type NoUnexportedOutput = Assert<[Unexported] extends [never] ? true : false>;
void ([true, true, true] satisfies [ExportedFitsInterface, NoUndeclaredOutput, NoUnexportedOutput]);

describe("the output contract file", () => {
  it("has the version the program exports", () => {
    expect(contract.contractVersion).toBe(OUTPUT_CONTRACT_VERSION);
  });

  it("promises the kubeconfig, as a secret", () => {
    expect(contract.outputs.kubeconfig.secret).toBe(true);
    expect(contract.outputs.kubeconfig.type).toContain("string");
  });

  it("names every settled output in the README's stack-output table", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.split(/^## Stack outputs$/m)[1]?.split(/^## /m)[0] ?? "";
    const settled = Object.entries(contract.outputs).filter(([, shape]) => !shape.pending);
    const undocumented = settled.map(([name]) => name).filter((name) => !section.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});

// Each stack is evaluated once for two checks: its outputs against the contract, its graph against the
// policy pack (policy/, unit-tested rule by rule in tests/policy.test.ts).
describe.each(["dev", "staging", "prod"])("the %s stack, evaluated once", (stack) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack);
  });

  it("has exactly the contract's outputs: names, nesting, types and secrecy", () => {
    expect(contractErrors(run, contract)).toEqual([]);
    expect(run.outputs.contractVersion).toBe(OUTPUT_CONTRACT_VERSION);
  });

  it("passes the policy pack's mandatory policies, which had its resources to check", async () => {
    expect(await packViolations(run.resources, stack)).toEqual([]);
    const types = new Set(run.resources.map((r) => r.type));
    for (const checked of [
      "openstack:networking/secGroupRule:SecGroupRule",
      "openstack:compute/instance:Instance",
      "openstack:compute/serverGroup:ServerGroup",
      "openstack:identity/applicationCredential:ApplicationCredential",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:security.istio.io/v1:PeerAuthentication",
      "command:local:Command",
    ]) {
      expect(types).toContain(checked);
    }
  });
});

describe.each([
  [
    "openstack-only (no cluster, no mesh)",
    { clusterMode: "openstack-only", keystoneUrl: undefined },
    [],
    ["kubeconfig", "injectionLabel", "mesh", "observability"],
  ],
  [
    "existing cluster (no OpenStack resources)",
    { clusterMode: "existing", existingKubeconfig: "apiVersion: v1\nkind: Config\n", keystoneUrl: undefined },
    ["existingKubeconfig"],
    ["network", "apiEndpoint", "nodes"],
  ],
] as const)("a dev stack in clusterMode %s", (_mode, overrides, secretKeys, absent) => {
  it("honours the contract, its absent layers' outputs null, the kubeconfig secret where there is one", async () => {
    const run = await evaluateStack("dev", overrides, { secretKeys: [...secretKeys] });
    expect(contractErrors(run, contract)).toEqual([]);
    const nulls = Object.entries(run.outputs)
      .filter(([, value]) => value === null)
      .map(([name]) => name);
    expect(nulls.sort()).toEqual([...absent].sort());
    expect(run.secretOutputs.includes("kubeconfig")).toBe(run.outputs.kubeconfig !== null);
  });
});

describe("a prod stack in ambient mode with Gateway API ingress", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack("prod", {
      meshDataplaneMode: "ambient",
      ingressApi: "gateway-api",
      meshNamespaces: { shop: "prod-stable" },
      meshWaypoints: ["shop"],
    });
  }, 90_000);

  it("honours the contract, with the Gateway a consumer attaches routes to", () => {
    expect(contractErrors(run, contract)).toEqual([]);
    expect(run.outputs.mesh).toMatchObject({ dataplaneMode: "ambient", gateway: { name: "ingress" } });
  });

  it("passes the policy pack's mandatory policies, STRICT mTLS and the ambient node agents included", async () => {
    expect(await packViolations(run.resources, "prod")).toEqual([]);
    const charts = run.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.inputs.chart);
    expect(charts).toEqual(expect.arrayContaining(["istiod", "cni", "ztunnel"]));
  });
});

describe("a staging stack on an existing network that accepts anonymous Kiali (allowAnonymousKiali)", () => {
  const subnetId = "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c";
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(
      "staging",
      {
        networkMode: "existing",
        existingNetworkId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
        existingSubnetId: subnetId,
        existingRouterId: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        kialiAuthStrategy: "anonymous",
        allowAnonymousKiali: true,
      },
      { fixtures: { subnets: { [subnetId]: { cidr: "10.30.0.0/22" } } } },
    );
  });

  it("still honours the contract (the given router's id)", () => {
    expect(contractErrors(run, contract)).toEqual([]);
    expect(run.outputs.network).toMatchObject({ routerId: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a" });
  });

  it("is accepted by the program's config, and refused by the policy pack unless its team relaxes the policy too", async () => {
    const violations = await packViolations(run.resources, "staging");
    expect(violations).toEqual([
      expect.stringMatching(/^kiali-not-anonymous .*auth\.strategy anonymous in a staging stack/),
    ]);
  });
});

describe("the contract check fails when the outputs drift", () => {
  const settled: OutputContract = {
    contractVersion: 1,
    outputs: {
      clusterName: { type: "string" },
      network: { type: "object", properties: { routerId: { type: ["string", "null"] } } },
      kubeconfig: { type: "string", secret: true },
      injectionLabel: { type: "object", additionalProperties: { type: "string" }, pending: "mesh layer" },
    },
  };
  const good = {
    outputs: { clusterName: "c", network: { routerId: null }, kubeconfig: "apiVersion: v1" },
    secretOutputs: ["kubeconfig"],
  };

  it("accepts outputs that match, with a pending output still absent", () => {
    expect(contractErrors(good, settled)).toEqual([]);
  });

  it("an output disappears", () => {
    const { clusterName: _gone, ...rest } = good.outputs;
    expect(contractErrors({ ...good, outputs: rest }, settled)).toEqual([
      expect.stringMatching(/^clusterName: missing/),
    ]);
  });

  it("an output or a nested value changes type, or a nested key appears", () => {
    const errors = contractErrors(
      { ...good, outputs: { ...good.outputs, clusterName: 3, network: { routerId: 7, extra: true } } },
      settled,
    );
    expect(errors).toEqual([
      "clusterName: expected string, got number",
      "network.routerId: expected string | null, got number",
      'network.extra: not in the contract (got {"type":"boolean"})',
    ]);
  });

  it("the kubeconfig is exported as plain text", () => {
    expect(contractErrors({ ...good, secretOutputs: [] }, settled)).toEqual([
      "kubeconfig: expected a secret, got plain text",
    ]);
  });

  it("accepts a secret output that is null (nothing to leak: no cluster, no kubeconfig)", () => {
    const nullable: OutputContract = {
      ...settled,
      outputs: { ...settled.outputs, kubeconfig: { type: ["string", "null"], secret: true } },
    };
    expect(contractErrors({ outputs: { ...good.outputs, kubeconfig: null }, secretOutputs: [] }, nullable)).toEqual([]);
  });

  it("an output is exported that the contract does not know, with a suggested entry", () => {
    const errors = contractErrors({ ...good, outputs: { ...good.outputs, ingress: { ip: "198.51.100.7" } } }, settled);
    expect(errors).toEqual([
      'ingress: exported but not in the contract; add it: "ingress": {"type":"object","properties":{"ip":{"type":"string"}}}',
    ]);
  });

  it("a pending output arrives: the contract must be settled in the same commit", () => {
    const arrived = { ...good, outputs: { ...good.outputs, injectionLabel: { "istio.io/rev": "stable" } } };
    expect(contractErrors(arrived, settled)).toEqual([expect.stringMatching(/^injectionLabel: now exported.*pending/)]);
  });

  it("sample outputs made from the contract satisfy it (pending ones included)", () => {
    const { outputs, secretOutputNames } = sampleOutputs(contract);
    const asIfSettled: OutputContract = {
      ...contract,
      outputs: Object.fromEntries(Object.entries(contract.outputs).map(([k, { pending: _p, ...s }]) => [k, s])),
    };
    expect(contractErrors({ outputs, secretOutputs: secretOutputNames }, asIfSettled)).toEqual([]);
    expect(secretOutputNames).toContain("kubeconfig");
  });
});
