import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { OUTPUT_CONTRACT_VERSION, type StackOutputs } from "../components/outputs";
import type { PendingPlatformOutput, PlatformOutputs } from "../components/platformOutputs";
import { evaluateStack, ROOT } from "./harness";
import { contractErrors, loadContract, type OutputContract, sampleOutputs } from "./outputs-contract-shape";

const contract = loadContract();

// Compile time: what stackOutputs() returns and what consumers import (PlatformOutputs) agree.
type Exported = pulumi.Unwrap<StackOutputs>;
type Shared = keyof Exported & keyof PlatformOutputs;
/** Fails to compile when an exported output has a type the interface does not allow. */
const exportedFitsInterface = (o: Exported): Pick<PlatformOutputs, Shared> => o;
type Undeclared = Exclude<keyof Exported, keyof PlatformOutputs>;
/** Fails to compile, naming the output, when one is exported but missing from PlatformOutputs. */
const noUndeclaredOutput: [Undeclared] extends [never] ? true : Undeclared = true;
type Unexported = Exclude<keyof PlatformOutputs, keyof Exported | PendingPlatformOutput>;
/** Fails to compile, naming the output, when PlatformOutputs promises one that is not exported nor pending. */
const noUnexportedOutput: [Unexported] extends [never] ? true : Unexported = true;

describe("the output contract file", () => {
  it("has the version the program exports", () => {
    expect(contract.contractVersion).toBe(OUTPUT_CONTRACT_VERSION);
    expect([exportedFitsInterface.length, noUndeclaredOutput, noUnexportedOutput]).toEqual([1, true, true]);
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

describe.each([
  ["dev", {}],
  ["staging", {}],
  ["prod", {}],
  [
    "dev",
    {
      networkMode: "existing",
      existingNetworkId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
      existingSubnetId: "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
    },
  ],
] as const)("the %s stack's outputs %j", (stack, overrides) => {
  it("have exactly the contract's names, nesting, types and secrecy", async () => {
    const run = await evaluateStack(stack, overrides, {
      fixtures: { subnets: { "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c": { cidr: "10.20.0.0/22" } } },
    });
    expect(contractErrors(run, contract)).toEqual([]);
    expect(run.outputs.contractVersion).toBe(OUTPUT_CONTRACT_VERSION);
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
