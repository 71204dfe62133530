/**
 * Runs policies of the pack (policy/) the way the engine does: a fake args object and a
 * reportViolation spy, for one resource or for a whole stack; and the whole pack over a stack
 * evaluated under mocks (tests/harness.ts).
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { policies } from "../policy/policies";
import { fakeId, type RecordedResource } from "../tools/mocks";

export interface Context {
  /** Stack name in the URN (the environment comes from it unless config says otherwise). */
  readonly stack?: string;
  readonly config?: Record<string, unknown>;
  readonly additionalSecretOutputs?: string[];
  readonly name?: string;
  /** The resource's protect option (key-material-protected reads it). */
  readonly protect?: boolean;
}

export const urnOf = (stack: string, type: string, name: string) =>
  `urn:pulumi:${stack}::istio-openstack::${type}::${name}`;

function notApplicable(reason?: string): never {
  throw new Error(`not applicable: ${reason}`);
}

function resourceArgs(type: string, props: Record<string, unknown>, ctx: Context = {}): ResourceValidationArgs {
  const name = ctx.name ?? "subject";
  return {
    type,
    props,
    name,
    urn: urnOf(ctx.stack ?? "prod", type, name),
    opts: {
      protect: ctx.protect ?? false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: ctx.additionalSecretOutputs ?? [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => (ctx.config ?? {}) as T,
    notApplicable,
  };
}

/** Runs a resource policy as the engine would; returns the violations it reported. */
export async function check(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  ctx?: Context,
): Promise<string[]> {
  const reportViolation = jest.fn<void, [string, string?]>();
  const validations = ([] as NonNullable<ResourceValidationPolicy["validateResource"]>[]).concat(
    policy.validateResource ?? [],
  );
  for (const validate of validations.flat()) await validate(resourceArgs(type, props, ctx), reportViolation);
  return reportViolation.mock.calls.map(([message]) => message);
}

export interface FakeResource {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** Input name → names of the resources it was computed from. */
  readonly deps?: Record<string, string[]>;
}

function stackResources(fakes: readonly FakeResource[], stack: string): PolicyResource[] {
  const byName = new Map<string, PolicyResource>();
  const built = fakes.map((fake) => {
    const resource = {
      type: fake.type,
      name: fake.name,
      urn: urnOf(stack, fake.type, fake.name),
      props: fake.props,
      opts: resourceArgs(fake.type, {}).opts,
      dependencies: [] as PolicyResource[],
      propertyDependencies: {} as Record<string, PolicyResource[]>,
      isType: () => false,
      asType: () => undefined,
    } as PolicyResource;
    byName.set(fake.name, resource);
    return resource;
  });
  fakes.forEach((fake, i) => {
    for (const [input, names] of Object.entries(fake.deps ?? {})) {
      const deps = names.map((n) => byName.get(n) as PolicyResource);
      built[i].propertyDependencies[input] = deps;
      built[i].dependencies.push(...deps);
    }
  });
  return built;
}

export async function checkStack(policy: StackValidationPolicy, fakes: readonly FakeResource[], ctx: Context = {}) {
  const reportViolation = jest.fn<void, [string, string?]>();
  const args: StackValidationArgs = {
    resources: stackResources(fakes, ctx.stack ?? "prod"),
    stackTags: new Map(),
    getConfig: <T extends object>() => (ctx.config ?? {}) as T,
    notApplicable,
  };
  await policy.validateStack(args, reportViolation);
  return reportViolation.mock.calls.map(([message]) => message);
}

/** Every violation the pack's policies of a level report over a stack evaluated under mocks. */
export async function packViolations(
  resources: readonly RecordedResource[],
  stack: string,
  level: EnforcementLevel = "mandatory",
): Promise<string[]> {
  const violations: string[] = [];
  for (const policy of policies.filter((p) => p.enforcementLevel === level)) {
    if ("validateStack" in policy) {
      const fakes = resources.map((r) => ({
        type: r.type,
        name: r.name,
        // Mocked ids are deterministic: the id fallback of the joins sees real-looking ids.
        props: { ...r.inputs, ...(r.custom ? { id: fakeId(r.type, r.name) } : {}) },
      }));
      violations.push(...(await checkStack(policy, fakes, { stack })).map((v) => `${policy.name}: ${v}`));
      continue;
    }
    for (const r of resources) {
      const ctx = {
        stack,
        name: r.name,
        additionalSecretOutputs: [...(r.options.additionalSecretOutputs ?? [])],
        protect: r.options.protect ?? false,
      };
      violations.push(...(await check(policy, r.type, r.inputs, ctx)).map((v) => `${policy.name} ${r.name}: ${v}`));
    }
  }
  return violations;
}
