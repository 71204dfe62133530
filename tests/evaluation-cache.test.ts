// The stored evaluations the tests share (tests/evaluationCache.ts) are the evaluations: what is read
// back equals a fresh evaluation exactly, the key changes with everything an evaluation depends on,
// and everything an evaluation loads or reads is among the files the key covers.
import * as fs from "node:fs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { cloudsFileCandidates } from "../stacks/deployer";
import {
  decodeExact,
  type EvaluationInputs,
  encodeExact,
  evaluationKey,
  evaluationStore,
  PROGRAM_INPUTS,
  programFingerprint,
} from "./evaluationCache";
import { type Evaluation, evaluateStack, ROOT } from "./harness";
import { importsOf } from "./importRules";

/** What an evaluation recorded (its query functions aside). */
const data = ({ ofType, one, ...recorded }: Evaluation) => recorded;

const scratch = () => mkdtempSync(path.join(tmpdir(), "evaluation-cache-"));

describe("a stored evaluation equals a fresh one", () => {
  const ids = {
    existingNetworkId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    existingSubnetId: "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
    existingRouterId: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
  };
  // Between them: every resource type the program makes, secrets, retained CRDs, fixtures.
  const cases: [string, Record<string, unknown>, Parameters<typeof evaluateStack>[2]][] = [
    ["prod", { meshDataplaneMode: "ambient", ingressApi: "gateway-api", meshNamespaces: { shop: "default" } }, {}],
    [
      "dev",
      { clusterMode: "existing", existingKubeconfig: "apiVersion: v1\nkind: Config\n" },
      { secretKeys: ["existingKubeconfig"] },
    ],
    [
      "dev",
      { networkMode: "existing", ...ids },
      { fixtures: { subnets: { [ids.existingSubnetId]: { cidr: "10.20.0.0/22" } } } },
    ],
  ];

  it.each(cases)("%s %j %j: read back from the store, strictly equal", async (stack, overrides, options) => {
    const reads: string[] = [];
    // The module object itself (what the program's imports call through), not an import's copy of it.
    const nodeFs = require("node:fs") as Record<string, (...args: unknown[]) => unknown>;
    const spies = ["readFileSync", "readdirSync", "existsSync", "statSync", "openSync"].map((name) => {
      const original = nodeFs[name] as (...args: unknown[]) => unknown;
      return jest.spyOn(nodeFs, name).mockImplementation((...args: unknown[]) => {
        reads.push(String(args[0]));
        return original.apply(nodeFs, args);
      });
    });
    let fresh: ReturnType<typeof data>;
    try {
      fresh = data(await evaluateStack(stack, overrides, { ...options, fresh: true }));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(fresh.resources.length).toBeGreaterThan(20);

    // Everything it read is covered by the key: the program's files, the installed packages, the mock
    // PKI's own cache (certificates made once per input), the deployer's clouds.yaml (read into the key).
    const modules = fs.realpathSync(path.join(ROOT, "node_modules"));
    const covered = [
      ...PROGRAM_INPUTS.map((rel) => path.join(ROOT, rel)),
      modules,
      path.join(tmpdir(), "istio-openstack-mock-pki"),
      path.join(tmpdir(), "mock-pki-"),
      ...["clouds.yaml", "clouds-public.yaml", "secure.yaml"].flatMap((name) =>
        cloudsFileCandidates(process.env, name, process.cwd(), homedir()),
      ),
    ];
    // Read by packages as they load, with no bearing on what the program registers.
    const readByPackagesOnLoad = [
      // @npmcli/git (loaded by @pulumi/pulumi) reads git's configuration for git commands never run here.
      path.join(homedir(), ".gitconfig"),
      // TypeScript (loaded by @pulumi/pulumi's closure serialization) stats its own path upper-cased to
      // tell whether the file system is case-sensitive.
      path.join(modules, "typescript", "lib", "typescript.js").toUpperCase(),
    ];
    const uncovered = reads
      .map((file) => path.resolve(file))
      .filter((file) => !covered.some((prefix) => file.startsWith(prefix)) && !readByPackagesOnLoad.includes(file));
    expect([...new Set(uncovered)]).toEqual([]);

    // Through the store's own files: written, then read back.
    const dir = scratch();
    try {
      const store = evaluationStore(dir, "f".repeat(64));
      const compute = jest.fn(async () => fresh);
      expect(await store.through("key", compute)).toBe(fresh);
      const stored = await store.through("key", compute);
      expect(compute).toHaveBeenCalledTimes(1);
      expect(stored).not.toBe(fresh);
      expect(stored).toStrictEqual(fresh);
      expect(store.read("key")).toStrictEqual(fresh);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the tests' evaluateStack returns it: a second evaluation of the same stack is the stored one", async () => {
    const fresh = data(await evaluateStack("dev", {}, { fresh: true }));
    expect(encodeExact([fresh.resources, fresh.config])).toBeDefined(); // storable, so stored below
    await evaluateStack("dev");
    expect(data(await evaluateStack("dev"))).toStrictEqual(fresh);
  });
});

describe("what JSON cannot carry exactly is not stored", () => {
  it("keeps undefined values, in objects and in arrays", () => {
    const value = { a: undefined, b: [1, undefined, { c: undefined }], d: { e: null, f: "" } };
    const back = decodeExact(encodeExact(value) as string);
    expect(back).toStrictEqual(value);
    expect(Object.keys(back as object)).toEqual(["a", "b", "d"]);
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const withAccessor = Object.defineProperty({}, "x", { get: () => 1, enumerable: true });
  const withHidden = Object.defineProperty({}, "x", { value: 1, enumerable: false });
  it.each([
    ["-0", { n: -0 }],
    ["NaN", [Number.NaN]],
    ["Infinity", { n: Number.POSITIVE_INFINITY }],
    ["a class instance", { p: new Point(1) }],
    ["a Map", { m: new Map() }],
    ["a Date", { d: new Date(0) }],
    ["a Buffer", { b: Buffer.from("x") }],
    ["a function", { f: () => 1 }],
    ["a bigint", { n: 1n }],
    ["a symbol-keyed property", { [Symbol("s")]: 1 }],
    ["an object without prototype", { o: Object.create(null) }],
    ["an object shared by two places", { a: shared, b: shared }],
    ["a cycle", cyclic],
    ["a sparse array", { a: Object.assign(new Array(3), { 0: 1, 2: 3 }) }],
    ["an array with extra properties", { a: Object.assign([1], { extra: true }) }],
    ["a getter", withAccessor],
    ["a non-enumerable property", withHidden],
    ["the encoding's own marker as a key", { "\u0000undefined": 1 }],
  ])("%s", (_what, value) => {
    expect(encodeExact(value)).toBeUndefined();
  });

  it("an uncacheable result is returned, not stored: the next call evaluates again", async () => {
    const dir = scratch();
    try {
      const store = evaluationStore(dir, "e".repeat(64));
      const compute = jest.fn(async () => ({ when: new Date(0) }));
      await store.through("key", compute);
      await store.through("key", compute);
      expect(compute).toHaveBeenCalledTimes(2);
      const failing = jest.fn(async () => {
        throw new Error("bad configuration");
      });
      await expect(store.through("other", failing)).rejects.toThrow("bad configuration");
      await expect(store.through("other", failing)).rejects.toThrow("bad configuration");
      expect(failing).toHaveBeenCalledTimes(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the key changes with everything an evaluation depends on", () => {
  const base: EvaluationInputs = {
    stack: "dev",
    values: { clusterName: "mesh", nodeCount: "3" },
    secretKeys: [],
    fixtures: undefined,
    deployer: { source: "the OS_* variables", applicationCredential: false },
  };
  const env = { PATH: "/usr/bin", HOME: "/root" };
  const key = (inputs: Partial<EvaluationInputs> = {}, environment: NodeJS.ProcessEnv = env, fingerprint = "f1") =>
    evaluationKey(fingerprint, { ...base, ...inputs }, environment);

  it("each input, the program's files and the environment", () => {
    const keys = [
      key(),
      key({ stack: "prod" }),
      key({ values: { ...base.values, nodeCount: "4" } }),
      key({ values: { ...base.values, sshEnabled: "true" } }),
      key({ secretKeys: ["clusterName"] }),
      key({ fixtures: { subnets: { s: { cidr: "10.0.0.0/24" } } } }),
      key({
        deployer: { source: "clouds.yaml entry", authUrl: "https://keystone:5000/v3", applicationCredential: false },
      }),
      key({}, { ...env, OS_AUTH_URL: "https://keystone:5000/v3" }),
      key({}, { ...env, PULUMI_CONFIG: "{}" }),
      key({}, env, "f2"),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("but not with what differs between the workers of one run, nor with the order of the values", () => {
    expect(key({}, { ...env, JEST_WORKER_ID: "2", npm_lifecycle_event: "unit" })).toBe(key());
    expect(key({ values: { nodeCount: "3", clusterName: "mesh" } })).toBe(key());
  });

  it("the fingerprint changes when any file under the program's inputs changes, appears, disappears or moves", () => {
    const dir = scratch();
    try {
      fs.mkdirSync(path.join(dir, "components", "mesh"), { recursive: true });
      writeFileSync(path.join(dir, "index.ts"), "export = {};\n");
      writeFileSync(path.join(dir, "components", "mesh", "a.ts"), "a\n");
      const inputs = ["index.ts", "components"];
      const seen = [programFingerprint(dir, inputs)];
      writeFileSync(path.join(dir, "components", "mesh", "a.ts"), "b\n");
      seen.push(programFingerprint(dir, inputs));
      writeFileSync(path.join(dir, "components", "mesh", "crd.yaml"), "kind: CustomResourceDefinition\n");
      seen.push(programFingerprint(dir, inputs));
      fs.renameSync(path.join(dir, "components", "mesh", "crd.yaml"), path.join(dir, "components", "crd.yaml"));
      seen.push(programFingerprint(dir, inputs));
      fs.rmSync(path.join(dir, "components", "crd.yaml"));
      seen.push(programFingerprint(dir, inputs));
      expect(new Set(seen).size).toBe(4);
      // Removing the file again gives the fingerprint before it was added: contents, not times.
      expect(seen[4]).toBe(seen[1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it("every file the program or the mock engine imports is among the program's inputs", () => {
  const covered = (file: string) => PROGRAM_INPUTS.some((input) => file === input || file.startsWith(`${input}/`));
  const resolve = (rel: string): string => {
    for (const candidate of [`${rel}.ts`, `${rel}/index.ts`, rel]) {
      if (fs.existsSync(path.join(ROOT, candidate)) && fs.statSync(path.join(ROOT, candidate)).isFile()) {
        return candidate;
      }
    }
    throw new Error(`cannot resolve ${rel}`);
  };
  const seen = new Set<string>();
  const pending = ["index.ts", "tools/mocks/index.ts"];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const edge of importsOf(file.replace(/\.ts$/, ""), source)) {
      if (edge.internal) pending.push(resolve(edge.to));
    }
  }
  expect(seen.size).toBeGreaterThan(40);
  expect([...seen].filter((file) => !covered(file))).toEqual([]);
});
