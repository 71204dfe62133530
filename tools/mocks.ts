/**
 * The offline engine: runs the program under the Pulumi SDK's mocks (no CLI, no cloud) and records
 * every resource with its type, logical name, parent and inputs. `npm run plan`, the benchmark and
 * the tests all use it. Cloud-computed outputs (ids, addresses) are made up deterministically.
 */
import { createHash, randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { certRequest, deterministicEcKey, locallySignedCert, selfSignedCert } from "./mockPki";

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
  /** Names of the inputs that were Pulumi secrets. */
  readonly secretInputs: readonly string[];
  /** The provider reference ("urn::id") the engine would use, for custom resources. */
  readonly provider?: string;
  /** Logical names of the resources this one explicitly depends on (dependsOn). */
  readonly dependsOn: readonly string[];
  /** Resource options that matter to a reviewer. */
  readonly options: {
    readonly protect?: boolean;
    readonly ignoreChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly additionalSecretOutputs?: readonly string[];
  };
}

export interface MockFixtures {
  /** getSubnet results by subnet id (bring-your-own network). */
  readonly subnets?: Readonly<Record<string, { cidr: string; networkId?: string }>>;
  readonly networks?: Readonly<Record<string, { mtu?: number; name?: string }>>;
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

export function fakeId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("/")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A deterministic address in the documentation range 198.51.100.0/24 for floating IPs and VIPs. */
export function fakePublicAddress(name: string): string {
  const byte = createHash("sha256").update(name).digest()[0];
  return `198.51.100.${(byte % 250) + 2}`;
}

type State = Record<string, unknown>;

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as State)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Deep-unwraps the SDK's secret envelopes; returns the plain inputs and which top-level inputs were secret. */
function unwrapSecrets(inputs: State): { plain: State; secretNames: string[] } {
  const secretNames: string[] = [];
  const unwrap = (value: unknown): unknown => {
    if (isSecretValue(value)) return unwrap(value.value);
    if (Array.isArray(value)) return value.map(unwrap);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
    }
    return value;
  };
  const plain: State = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (JSON.stringify(value ?? null).includes(SECRET_SIG)) secretNames.push(name);
    plain[name] = unwrap(value);
  }
  return { plain, secretNames };
}
type StateFn = (name: string, inputs: State, salt: string) => State;

/**
 * A stand-in for Pulumi state: a resource with the same name and inputs keeps its outputs across
 * runs in a process (kept on globalThis, so it survives jest's isolated module registries).
 */
const globalMockState = globalThis as { __mockStateStore?: Map<string, State> };
globalMockState.__mockStateStore ??= new Map();
const stateStore: Map<string, State> = globalMockState.__mockStateStore;

function remembered(type: string, name: string, inputs: State, make: () => State): State {
  const storeKey = `${type}::${name}::${JSON.stringify(inputs)}`;
  const known = stateStore.get(storeKey);
  if (known) return known;
  const made = make();
  stateStore.set(storeKey, made);
  return made;
}

/** Lowercase alphanumerics from the name (and salt), like random.RandomString with upper and special off. */
function fakeRandomString(name: string, length: number, salt = ""): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = createHash("sha256")
    .update(salt ? `mock-random:${salt}:${name}` : `mock-random:${name}`)
    .digest();
  return Array.from({ length }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join("");
}

/** An address in the node subnet for a port: 10.x addresses from the name, stable across runs. */
function fakeFixedIp(name: string): string {
  const bytes = createHash("sha256").update(`mock-port:${name}`).digest();
  return `10.20.${bytes[0] % 4}.${(bytes[1] % 200) + 20}`;
}

/** What OpenStack (and the tls and random providers) would compute for the resource types the program creates. */
const computedState: Record<string, StateFn> = {
  "openstack:networking/port:Port": (name) => ({ allFixedIps: [fakeFixedIp(name)] }),
  "openstack:networking/subnet:Subnet": (_name, inputs) => ({ cidr: inputs.cidr }),
  "openstack:compute/instance:Instance": (name) => ({ accessIpV4: fakeFixedIp(name) }),
  "openstack:compute/keypair:Keypair": (_name, inputs) => ({ name: inputs.name }),
  "openstack:loadbalancer/loadBalancer:LoadBalancer": (name) => ({
    vipAddress: fakeFixedIp(`${name}-vip`),
    vipPortId: fakeId("vip-port", name),
  }),
  "openstack:identity/applicationCredential:ApplicationCredential": (name, _inputs, salt) => ({
    secret: `mock-application-credential-secret-${fakeRandomString(name, 12, salt)}`,
  }),
  "tls:index/privateKey:PrivateKey": (name, _inputs, salt) => deterministicEcKey(name, salt),
  "tls:index/selfSignedCert:SelfSignedCert": (name, inputs) =>
    remembered("cert", name, inputs, () => ({ certPem: selfSignedCert(inputs) })),
  "tls:index/certRequest:CertRequest": (name, inputs) =>
    remembered("csr", name, inputs, () => ({ certRequestPem: certRequest(inputs) })),
  "tls:index/locallySignedCert:LocallySignedCert": (name, inputs) =>
    remembered("signed", name, inputs, () => ({ certPem: locallySignedCert(inputs) })),
  "random:index/randomString:RandomString": (name, inputs, salt) => ({
    result: fakeRandomString(name, Number(inputs.length), salt),
  }),
  "random:index/randomPassword:RandomPassword": (name, inputs, salt) => ({
    result: fakeRandomString(name, Number(inputs.length), salt),
  }),
  "command:local:Command": () => ({ stdout: "", stderr: "" }),
  "openstack:networking/network:Network": (_name, inputs) => ({ mtu: inputs.mtu ?? 1450 }),
  "openstack:networking/floatingIp:FloatingIp": (name) => ({ address: fakePublicAddress(name) }),
  // What Helm reports after an install, and a LoadBalancer Service once OCCM gave it an address.
  "kubernetes:helm.sh/v3:Release": (_name, inputs) => ({
    status: { name: inputs.name, namespace: inputs.namespace, version: inputs.version, status: "deployed" },
  }),
  "kubernetes:core/v1:Service": (name) => ({
    status: { loadBalancer: { ingress: [{ ip: fakePublicAddress(name) }] } },
  }),
};

export async function runUnderMocks(program: () => unknown, options: MockRunOptions): Promise<MockRun> {
  const recorded = new Map<string, RecordedResource & { inputs: State; secretInputs: string[]; provider?: string }>();
  const keyOf = new Map<pulumi.Resource, string>();
  const computedOutputs: Record<string, State> = {};
  let constructed = 0;
  let registered = 0;

  const mocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      registered++;
      const { plain: inputs, secretNames } = unwrapSecrets((args.inputs ?? {}) as State);
      const entry = recorded.get(`${args.type}::${args.name}`);
      if (entry) {
        entry.inputs = inputs;
        entry.secretInputs = secretNames;
        if (args.provider) entry.provider = args.provider;
      }
      const extra = computedState[args.type]?.(args.name, inputs, options.keySalt ?? "") ?? {};
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
  // The SDK records a stack trace for every promise it makes (leak debugging); with source maps on,
  // that dominates an offline evaluation. Errors keep their messages; deep stacks are not needed here.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  try {
    return await evaluate();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    process.off("unhandledRejection", onRejection);
  }

  async function evaluate(): Promise<MockRun> {
    await pulumi.runtime.setMocks(mocks, options.project, options.stack, false);
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
          dependsOn,
          options: {
            ...(args.opts.protect ? { protect: true } : {}),
            ...(args.opts.ignoreChanges?.length ? { ignoreChanges: args.opts.ignoreChanges } : {}),
            ...(custom.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
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
    return {
      resources: [...recorded.values()],
      outputs: values as Record<string, unknown>,
      secretOutputs,
      computedOutputs,
    };
  }
}

/** Outputs' own promise (marked internal in the SDK) also rejects when an apply throws, as `pulumi up` would fail. */
function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}
