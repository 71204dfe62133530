/**
 * Whole-stack evaluations under the mocks, kept on disk (.e2e/evaluations/, gitignored) and shared by
 * the jest workers of a run and by later runs: most test files read the same stacks, and evaluating one
 * is what the suite spends its time on.
 *
 * Sound because an evaluation is a function of what goes into it: the mock engine is deterministic
 * (without keySalt; certificates come from the mock PKI's own cache), so the key is a digest of the
 * program's files (PROGRAM_INPUTS: its sources, the files it reads, the installed packages, the
 * harness), the configuration, secret keys, fixtures, the deployer's credentials as read, and this
 * process's environment. An entry is the evaluation's data exactly: values JSON cannot carry exactly
 * (shared or cyclic objects, class instances, -0, NaN, holes, ...) make it uncacheable and it is
 * simply evaluated each time. tests/evaluation-cache.test.ts proves a stored evaluation equals a
 * fresh one, and that the key changes with each of its inputs.
 *
 * EVALUATION_CACHE=off evaluates everything afresh.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";

/**
 * Every file an evaluation of the program can depend on, repository-relative (folders: every file
 * under them). The program's imports never leave index.ts, components/, stacks/, lib/ (the import
 * rules) and the files it reads lie beside its sources; tests/evaluation-cache.test.ts checks both.
 */
export const PROGRAM_INPUTS = [
  "index.ts",
  "components",
  "stacks",
  "lib",
  "tools/mocks",
  "Pulumi.yaml",
  "Pulumi.dev.yaml",
  "Pulumi.staging.yaml",
  "Pulumi.prod.yaml",
  // The packages the program runs on, as installed (npm writes node_modules/.package-lock.json).
  "package-lock.json",
  "node_modules/.package-lock.json",
  // How the tests load and record it.
  "jest.config.js",
  "tests/setup-env.js",
  "tests/harness.ts",
  "tests/evaluationCache.ts",
] as const;

function filesUnder(root: string, rel: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path.join(root, rel));
  } catch {
    return [];
  }
  if (!stat.isDirectory()) return [rel];
  return readdirSync(path.join(root, rel))
    .sort()
    .flatMap((name) => filesUnder(root, `${rel}/${name}`));
}

/** A digest of every file of PROGRAM_INPUTS under root: names and contents. */
export function programFingerprint(root: string, inputs: readonly string[] = PROGRAM_INPUTS): string {
  const hash = createHash("sha256");
  for (const file of inputs.flatMap((rel) => filesUnder(root, rel))) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Environment variables that differ between the workers of one run and that nothing in the program reads. */
const PER_WORKER = (name: string) => name === "JEST_WORKER_ID" || name.startsWith("npm_");

/** What an evaluation depends on besides the program's files. */
export interface EvaluationInputs {
  readonly stack: string;
  /** Configuration values without the project prefix, as the engine passes them. */
  readonly values: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
  readonly fixtures?: unknown;
  /** The deployer's credentials as the program reads them (clouds.yaml files included). */
  readonly deployer: unknown;
}

/** The cache key: the program's fingerprint, the evaluation's inputs, the process's environment. */
export function evaluationKey(
  fingerprint: string,
  inputs: EvaluationInputs,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const environment = Object.entries(env)
    .filter(([name]) => !PER_WORKER(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256")
    .update(
      JSON.stringify([
        fingerprint,
        inputs.stack,
        Object.entries(inputs.values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        inputs.secretKeys,
        inputs.fixtures ?? null,
        inputs.deployer ?? null,
        environment,
        process.cwd(),
        homedir(),
        process.version,
      ]),
    )
    .digest("hex");
}

const UNDEFINED = "\u0000undefined";

/**
 * The value as JSON that decodes to an equal value (same keys, undefined values kept, plain objects
 * and arrays of this realm), or undefined when JSON cannot carry it exactly.
 */
export function encodeExact(value: unknown): string | undefined {
  const seen = new Set<object>();
  const encode = (v: unknown): unknown => {
    if (v === undefined) return { [UNDEFINED]: 1 };
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number") {
      if (!Number.isFinite(v) || Object.is(v, -0)) throw new Uncacheable();
      return v;
    }
    if (typeof v !== "object") throw new Uncacheable();
    // Shared objects would come back as copies; cycles cannot be written at all.
    if (seen.has(v)) throw new Uncacheable();
    seen.add(v);
    if (Object.getOwnPropertySymbols(v).length > 0) throw new Uncacheable();
    const names = Object.getOwnPropertyNames(v);
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype || names.length !== v.length + 1) throw new Uncacheable();
      return Array.from(v, (item, i) => {
        if (!Object.hasOwn(v, i)) throw new Uncacheable();
        return encode(item);
      });
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) throw new Uncacheable();
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const descriptor = Object.getOwnPropertyDescriptor(v, name);
      if (!descriptor?.enumerable || !("value" in descriptor) || name === UNDEFINED) {
        throw new Uncacheable();
      }
      out[name] = encode(descriptor.value);
    }
    return out;
  };
  try {
    return JSON.stringify(encode(value));
  } catch (error) {
    if (error instanceof Uncacheable) return undefined;
    throw error;
  }
}

class Uncacheable extends Error {}

/** The inverse of encodeExact. */
export function decodeExact(text: string): unknown {
  const decode = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = decode(v[i]);
      return v;
    }
    const record = v as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === UNDEFINED) return undefined;
    for (const key of keys) record[key] = decode(record[key]);
    return record;
  };
  return decode(JSON.parse(text));
}

/** How long a worker waits for another that is evaluating the same key before evaluating it too. */
const WAIT_FOR_OTHER_MS = 120_000;
/** Fingerprints kept on disk: the current one and a few before (another branch, a rebase). */
const KEEP_FINGERPRINTS = 4;

export interface EvaluationStore {
  /**
   * The stored value for key, else compute()'s result, stored when encodeExact can carry it. A
   * failed compute() stores nothing. Another process computing the same key is waited for.
   */
  through<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** The stored value, if any (decoded afresh on every call). */
  read(key: string): unknown | undefined;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

const olderThan = (file: string, ms: number): boolean => {
  try {
    return Date.now() - statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
};

/** A store in dir/<fingerprint>/, pruning older fingerprints' folders when it creates its own. */
export function evaluationStore(dir: string, fingerprint: string): EvaluationStore {
  const folder = path.join(dir, fingerprint.slice(0, 32));
  const entry = (key: string) => path.join(folder, `${key}.json`);
  let ready = false;
  const prepare = () => {
    if (ready) return;
    mkdirSync(folder, { recursive: true });
    const others = readdirSync(dir)
      .filter((name) => name !== path.basename(folder))
      .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of others.slice(KEEP_FINGERPRINTS - 1))
      rmSync(path.join(dir, old.name), { recursive: true, force: true });
    ready = true;
  };
  const read = (key: string): unknown | undefined => {
    try {
      return decodeExact(readFileSync(entry(key), "utf8"));
    } catch {
      // Not stored (or unreadable: evaluated again and stored anew).
      return undefined;
    }
  };
  /** Takes the key's lock (a file naming this pid), or says who holds it. */
  const lock = (key: string): { release(): void } | { holder: number } => {
    const file = path.join(folder, `${key}.lock`);
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(file, "utf8"));
      } catch {
        // released meanwhile
      }
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) return { holder };
      // A lock left by a process that is gone; one without a pid yet is being taken right now, unless old.
      if ((Number.isInteger(holder) && holder > 0) || olderThan(file, 10_000)) {
        try {
          unlinkSync(file);
        } catch {
          // someone else took it over
        }
      }
      return { holder: 0 };
    }
  };
  return {
    read,
    async through<T>(key: string, compute: () => Promise<T>): Promise<T> {
      prepare();
      const deadline = Date.now() + WAIT_FOR_OTHER_MS;
      for (;;) {
        const stored = read(key);
        if (stored !== undefined) return stored as T;
        const taken = lock(key);
        if ("release" in taken) {
          try {
            // Stored by another process between the read and the lock.
            const meanwhile = read(key);
            if (meanwhile !== undefined) return meanwhile as T;
            const value = await compute();
            const text = encodeExact(value);
            if (text !== undefined) {
              const partial = `${entry(key)}.${process.pid}.partial`;
              writeFileSync(partial, text);
              renameSync(partial, entry(key));
            }
            return value;
          } finally {
            taken.release();
          }
        }
        if (Date.now() > deadline) return compute();
        await new Promise((done) => setTimeout(done, taken.holder ? 50 : 5));
      }
    },
  };
}

export const cacheEnabled = (): boolean => process.env.EVALUATION_CACHE !== "off";
