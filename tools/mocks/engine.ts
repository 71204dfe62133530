/**
 * The offline engine: runs the program under the Pulumi SDK's mocks (no CLI, no cloud) and records
 * every resource with its type, logical name, parent and inputs. `npm run plan`, the benchmark and
 * the tests all use it. Cloud-computed outputs (ids, addresses) are made up deterministically.
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { computedState, fakeId, fakePublicAddress } from "./cloud";
import { type State, unwrapSecrets } from "./secrets";

export interface RecordedResource {
  /** type::name, unique within a run. */
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Key of the parent resource; undefined for resources parented to the stack. */
  readonly parent?: string;
  /** Inputs as the engine would receive them, secrets unwrapped (see secretInputs). */
  readonly inputs: Record<string, unknown>;
  /** Names of the inputs that were Pulumi secrets (or held one). */
  readonly secretInputs: readonly string[];
  /** Dotted paths of the secret values inside the inputs, e.g. "environment.KUBECONFIG_DATA". */
  readonly secretPaths: readonly string[];
  /** The provider reference ("urn::id") the engine would use, for custom resources. */
  readonly provider?: string;
  /** Keys (type::name) of the resources this one explicitly depends on (dependsOn). */
  readonly dependsOn: readonly string[];
  /**
   * Keys of every resource the engine is told this one depends on, as the SDK sends them in the
   * registration: explicit dependsOn and every resource an input's value came from (an Output of
   * another resource), components expanded to the custom resources they parent. The SDK registers
   * a resource only once all of these exist: with its parent and provider, its order in `pulumi up`.
   */
  readonly dependencies: readonly string[];
  /** Per input name, the keys of the resources that input's value came from (its input dependencies). */
  readonly inputDependencies: Readonly<Record<string, readonly string[]>>;
  /** Keys of the provider resources the registration names: a custom resource's own, a component's `providers`. */
  readonly providers: readonly string[];
  /**
   * A component its provider implements (e.g. helm.v4.Chart): the provider creates its children
   * within its registration, so it takes time like a custom resource, and its children are not
   * recorded (the mocks do not run providers).
   */
  readonly remote?: boolean;
  /** Resource options that matter to a reviewer. */
  readonly options: {
    readonly protect?: boolean;
    readonly ignoreChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    /** Pulumi forgets the resource on delete but leaves it in the cluster or cloud. */
    readonly retainOnDelete?: boolean;
    readonly additionalSecretOutputs?: readonly string[];
  };
}

export interface MockFixtures {
  /** getSubnet results by subnet id (bring-your-own network). */
  readonly subnets?: Readonly<Record<string, { cidr: string; networkId?: string }>>;
  readonly networks?: Readonly<Record<string, { mtu?: number; name?: string }>>;
  /** getRouter results by router id; unset: a router with one gateway address made up from its id. */
  readonly routers?: Readonly<Record<string, { externalFixedIps: { ipAddress: string }[] }>>;
}

export interface MockRunOptions {
  readonly project: string;
  readonly stack: string;
  /** Full keys ("project:key") to string values, as the engine passes them. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys?: readonly string[];
  readonly fixtures?: MockFixtures;
  /**
   * Mixed into every private key and random string the mocks make up. Unset (the default), key
   * material is derived from resource names only, stable across runs (unit tests and plan diffs rely
   * on it). A fresh random salt per run (see freshKeySalt) gives fresh keys and tokens, the way the
   * tls and random providers generate them: what the real-binary ring (npm run e2e:bootstrap) uses.
   */
  readonly keySalt?: string;
  /**
   * What a resource's provider computes beyond the stand-ins of ./cloud.ts, by type (e.g. a
   * StackReference's outputs, a command's stdout); merged over the inputs like computed state.
   */
  readonly computed?: Readonly<Record<string, (name: string, inputs: State) => State>>;
}

/** A random salt for MockRunOptions.keySalt: 256 bits, so every run's key material is new. */
export function freshKeySalt(): string {
  return randomBytes(32).toString("hex");
}

export interface MockRun {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
  /** Output names whose values are Pulumi secrets. */
  readonly secretOutputs: readonly string[];
  /**
   * What the mocks computed for each custom resource beyond its inputs (addresses, ids, keys), by
   * resource key: the values a real deployment would learn from the cloud. In memory only, never
   * written by the plan (it holds private keys).
   */
  readonly computedOutputs: Readonly<Record<string, Record<string, unknown>>>;
}

export async function runUnderMocks(program: () => unknown, options: MockRunOptions): Promise<MockRun> {
  const recorded = new Map<
    string,
    RecordedResource & {
      inputs: State;
      secretInputs: string[];
      secretPaths: string[];
      provider?: string;
      dependencies: string[];
      inputDependencies: Record<string, string[]>;
      providers: string[];
      remote?: boolean;
    }
  >();
  const keyOf = new Map<pulumi.Resource, string>();
  const computedOutputs: Record<string, State> = {};
  let constructed = 0;
  let registered = 0;

  const mocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      registered++;
      const { plain: inputs, secretNames, secretPaths } = unwrapSecrets((args.inputs ?? {}) as State);
      const entry = recorded.get(`${args.type}::${args.name}`);
      if (entry) {
        entry.inputs = inputs;
        entry.secretInputs = secretNames;
        entry.secretPaths = secretPaths;
        if (args.provider) entry.provider = args.provider;
      }
      const extra =
        options.computed?.[args.type]?.(args.name, inputs) ??
        computedState[args.type]?.(args.name, inputs, options.keySalt ?? "") ??
        {};
      if (args.custom !== false) computedOutputs[`${args.type}::${args.name}`] = extra;
      return { id: args.custom === false ? undefined : fakeId(args.type, args.name), state: { ...inputs, ...extra } };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      const { plain: inputs } = unwrapSecrets((args.inputs ?? {}) as State);
      switch (args.token) {
        case "openstack:networking/getNetwork:getNetwork": {
          const id = (inputs.networkId as string | undefined) ?? fakeId("network", String(inputs.name));
          const fixture = options.fixtures?.networks?.[id];
          return { id, name: fixture?.name ?? inputs.name ?? "public", mtu: fixture?.mtu ?? 1500, external: true };
        }
        case "openstack:networking/getRouter:getRouter": {
          const id = String(inputs.routerId);
          const fixture = options.fixtures?.routers?.[id];
          return {
            id,
            externalFixedIps: fixture?.externalFixedIps ?? [{ ipAddress: fakePublicAddress(`router:${id}`) }],
          };
        }
        case "openstack:networking/getSubnet:getSubnet": {
          const id = String(inputs.subnetId);
          const fixture = options.fixtures?.subnets?.[id];
          if (!fixture) throw new Error(`mock: no subnet fixture for ${id}`);
          return { id, cidr: fixture.cidr, networkId: fixture.networkId ?? fakeId("network-of", id) };
        }
        default:
          return inputs;
      }
    },
  };

  // An error thrown in an apply fails `pulumi up`; here it would surface only as an unhandled rejection.
  const failures: unknown[] = [];
  const onRejection = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", onRejection);
  // The SDK records a stack trace for every promise it makes (leak debugging) and a whole one for every
  // resource (its source position); with source maps on (jest, tsx) formatting them dominates an
  // offline evaluation. Errors keep their messages; deep stacks and mapped positions are not needed
  // here (the mocks record no source positions): V8's own frame format, unmapped.
  const stackTraceLimit = Error.stackTraceLimit;
  const prepareStackTrace = Error.prepareStackTrace;
  Error.stackTraceLimit = 1;
  Error.prepareStackTrace = plainStackTrace;
  try {
    return await evaluate();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    Error.prepareStackTrace = prepareStackTrace;
    process.off("unhandledRejection", onRejection);
  }

  async function evaluate(): Promise<MockRun> {
    await pulumi.runtime.setMocks(mocks, options.project, options.stack, false);
    const registrations = recordRegistrations();
    pulumi.runtime.setAllConfig({ ...options.config }, [...(options.secretKeys ?? [])]);
    let exported: Record<string, unknown> = {};
    // The root Stack resource must exist before stack transformations can be registered.
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        constructed++;
        const key = `${args.type}::${args.name}`;
        keyOf.set(args.resource, key);
        const parent = args.opts.parent ? keyOf.get(args.opts.parent) : undefined;
        const dependsOn = ([] as pulumi.Input<pulumi.Resource>[])
          .concat(
            (args.opts.dependsOn as pulumi.Input<pulumi.Resource>[] | pulumi.Input<pulumi.Resource> | undefined) ?? [],
          )
          .flatMap((dep) => (pulumi.Resource.isInstance(dep) ? [keyOf.get(dep) ?? "?"] : []));
        const custom = args.opts as pulumi.CustomResourceOptions;
        recorded.set(key, {
          key,
          type: args.type,
          name: args.name,
          custom: !(args.resource instanceof pulumi.ComponentResource),
          parent,
          inputs: {},
          secretInputs: [],
          secretPaths: [],
          dependsOn,
          dependencies: [],
          inputDependencies: {},
          providers: [],
          options: {
            ...(args.opts.protect ? { protect: true } : {}),
            ...(args.opts.ignoreChanges?.length ? { ignoreChanges: args.opts.ignoreChanges } : {}),
            ...(custom.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
            ...(args.opts.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(custom.additionalSecretOutputs?.length
              ? { additionalSecretOutputs: custom.additionalSecretOutputs }
              : {}),
          },
        });
        return undefined;
      });
      exported = ((await program()) as Record<string, unknown> | undefined) ?? {};
      return exported;
    });
    const outputs = exported;

    // Resolve every output (this also waits for the resources they come from), then the inputs.
    const [values, secretOutputs] = await Promise.all([
      resolve(pulumi.output(outputs)),
      Promise.all(
        Object.entries(outputs).map(async ([name, value]) =>
          pulumi.Output.isInstance(value) && (await pulumi.isSecret(value)) ? [name] : [],
        ),
      ).then((names) => names.flat()),
    ]);
    const deadline = Date.now() + 20_000;
    while (registered < constructed) {
      if (Date.now() > deadline) throw new Error(`mock run: ${constructed - registered} resources never registered`);
      await new Promise((done) => setTimeout(done, 5));
    }
    await new Promise((done) => setTimeout(done, 10));
    if (failures.length > 0) throw failures[0];
    registrations.resolveInto(recorded);
    return {
      resources: [...recorded.values()],
      outputs: values as Record<string, unknown>,
      secretOutputs,
      computedOutputs,
    };
  }
}

/** A stack as V8 writes it without a prepareStackTrace hook. */
function plainStackTrace(error: Error, frames: readonly NodeJS.CallSite[]): string {
  let header: string;
  try {
    header = String(error);
  } catch {
    header = "Error";
  }
  return [header, ...frames.map((frame) => `    at ${frame}`)].join("\n");
}

/** What a registration request tells the engine about order, by URN (see RecordedResource.dependencies). */
interface Registration {
  readonly key: string;
  readonly dependencies: readonly string[];
  readonly inputDependencies: Readonly<Record<string, readonly string[]>>;
  /** Provider references ("urn::id"). */
  readonly providers: readonly string[];
  readonly remote: boolean;
}

/** The parts of the SDK's registration requests this file reads (protobuf getters). */
interface RegistrationRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getProvider(): string;
  getPropertydependenciesMap?(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getProvidersMap?(): { forEach(fn: (ref: string, pkg: string) => void): void };
  getRemote?(): boolean;
}
type MonitorCall = (
  req: RegistrationRequest,
  callback: (error: unknown, response?: { getUrn(): string }) => void,
) => void;

/**
 * Listens to the mock monitor's registrations: the dependencies there are the ones the SDK computed
 * for the real engine (RecordedResource.dependencies), which the stack transformation cannot see.
 */
function recordRegistrations() {
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<"registerResource" | "readResource", MonitorCall>;
  const byUrn = new Map<string, string>();
  const registrations: Registration[] = [];
  for (const method of ["registerResource", "readResource"] as const) {
    const original = monitor[method].bind(monitor);
    monitor[method] = (req, callback) => {
      const key = `${req.getType()}::${req.getName()}`;
      const inputDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap?.().forEach((deps, input) => {
        inputDependencies[input] = deps.getUrnsList();
      });
      const providers = req.getProvider() ? [req.getProvider()] : [];
      req.getProvidersMap?.().forEach((ref) => {
        providers.push(ref);
      });
      registrations.push({
        key,
        dependencies: req.getDependenciesList(),
        inputDependencies,
        providers,
        remote: req.getRemote?.() ?? false,
      });
      original(req, (error, response) => {
        if (response) byUrn.set(response.getUrn(), key);
        callback(error, response);
      });
    };
  }
  const keyOf = (urn: string): string => byUrn.get(urn) ?? urn;
  return {
    /** Fills in dependencies, inputDependencies and providers as keys, once every registration answered. */
    resolveInto(
      recorded: Map<
        string,
        { dependencies: string[]; inputDependencies: Record<string, string[]>; providers: string[]; remote?: boolean }
      >,
    ) {
      for (const registration of registrations) {
        const entry = recorded.get(registration.key);
        if (!entry) continue;
        entry.dependencies = [...new Set(registration.dependencies.map(keyOf))].sort();
        entry.inputDependencies = Object.fromEntries(
          Object.entries(registration.inputDependencies)
            .filter(([, urns]) => urns.length > 0)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([input, urns]) => [input, [...new Set(urns.map(keyOf))].sort()]),
        );
        // A provider reference is "urn::id"; the URN itself contains "::".
        if (registration.remote) entry.remote = true;
        entry.providers = [...new Set(registration.providers.map((ref) => keyOf(ref.slice(0, ref.lastIndexOf("::")))))];
      }
    },
  };
}

/** Outputs' own promise (marked internal in the SDK) also rejects when an apply throws, as `pulumi up` would fail. */
function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}
