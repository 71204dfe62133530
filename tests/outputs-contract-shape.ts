/**
 * The output contract as data (tests/fixtures/output-contract.json) and the checks against it: pure
 * functions over plain values, used by the contract test (real stacks under mocks) and by the
 * consumer example's tests (fake StackReference outputs made from the same description).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const VALUE_TYPES = ["string", "number", "boolean", "null", "object", "array"] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export interface Shape {
  readonly type: ValueType | readonly ValueType[];
  /** object: its keys, exactly (a key added or removed is a shape change). */
  readonly properties?: Readonly<Record<string, Shape>>;
  /** object used as a map: every value has this shape. */
  readonly additionalProperties?: Shape;
  /** array: every element has this shape. */
  readonly items?: Shape;
  readonly description?: string;
}

export interface OutputShape extends Shape {
  /** The whole output is a Pulumi secret (StackReference reports it in secretOutputNames). */
  readonly secret?: boolean;
  /** A layer still has to add this output: which one. */
  readonly pending?: string;
}

export interface OutputContract {
  readonly contractVersion: number;
  readonly outputs: Readonly<Record<string, OutputShape>>;
}

export const CONTRACT_FILE = path.join(__dirname, "fixtures", "output-contract.json");

export function loadContract(file = CONTRACT_FILE): OutputContract {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as OutputContract;
  const problems = [
    ...(Number.isInteger(parsed.contractVersion) ? [] : ["contractVersion must be an integer"]),
    ...Object.entries(parsed.outputs ?? {}).flatMap(([name, shape]) => malformed(shape, name)),
  ];
  if (problems.length > 0) throw new Error(`${file} is malformed:\n  - ${problems.join("\n  - ")}`);
  return parsed;
}

function typesOf(shape: Shape): readonly ValueType[] {
  return typeof shape.type === "string" ? [shape.type] : shape.type;
}

function malformed(shape: Shape, at: string): string[] {
  const types = typesOf(shape ?? ({} as Shape));
  const problems = types.length === 0 ? [`${at}: no type`] : [];
  for (const t of types) if (!VALUE_TYPES.includes(t)) problems.push(`${at}: unknown type ${JSON.stringify(t)}`);
  if ((shape.properties || shape.additionalProperties) && !types.includes("object")) {
    problems.push(`${at}: properties on a non-object`);
  }
  if (shape.items && !types.includes("array")) problems.push(`${at}: items on a non-array`);
  for (const [key, sub] of Object.entries(shape.properties ?? {})) problems.push(...malformed(sub, `${at}.${key}`));
  if (shape.additionalProperties) problems.push(...malformed(shape.additionalProperties, `${at}.*`));
  if (shape.items) problems.push(...malformed(shape.items, `${at}[]`));
  return problems;
}

export function typeOfValue(value: unknown): ValueType | "undefined" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const t = typeof value;
  if (t === "string" || t === "number" || t === "boolean" || t === "object") return t;
  return "undefined";
}

/** Where a value departs from a shape, one message per departure, each with its path. */
export function shapeErrors(value: unknown, shape: Shape, at: string): string[] {
  const actual = typeOfValue(value);
  const expected = typesOf(shape);
  if (actual === "undefined" || !expected.includes(actual)) {
    return [`${at}: expected ${expected.join(" | ")}, got ${actual === "undefined" ? "nothing" : actual}`];
  }
  if (actual === "array" && shape.items) {
    return (value as unknown[]).flatMap((item, i) => shapeErrors(item, shape.items as Shape, `${at}[${i}]`));
  }
  if (actual !== "object") return [];
  const record = value as Record<string, unknown>;
  const errors: string[] = [];
  if (shape.properties) {
    for (const [key, sub] of Object.entries(shape.properties))
      errors.push(...shapeErrors(record[key], sub, `${at}.${key}`));
    for (const key of Object.keys(record)) {
      if (!(key in shape.properties)) {
        errors.push(`${at}.${key}: not in the contract (got ${JSON.stringify(suggestShape(record[key]))})`);
      }
    }
  }
  if (shape.additionalProperties) {
    for (const [key, sub] of Object.entries(record)) {
      errors.push(...shapeErrors(sub, shape.additionalProperties, `${at}.${key}`));
    }
  }
  return errors;
}

export interface StackOutputsSeen {
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly secretOutputs: readonly string[];
}

/** Every departure of a stack's outputs from the contract: missing, unexpected, mistyped, secrecy, pending. */
export function contractErrors(seen: StackOutputsSeen, contract: OutputContract): string[] {
  const errors: string[] = [];
  const secret = new Set(seen.secretOutputs);
  for (const [name, shape] of Object.entries(contract.outputs)) {
    const present = name in seen.outputs && seen.outputs[name] !== undefined;
    if (!present) {
      if (!shape.pending) errors.push(`${name}: missing (the contract promises it; removing it is a breaking change)`);
      continue;
    }
    if (shape.pending) {
      errors.push(
        `${name}: now exported, but the contract still marks it pending (${shape.pending}): remove "pending"`,
      );
    }
    errors.push(...shapeErrors(seen.outputs[name], shape, name));
    // A null output holds nothing to leak (e.g. no kubeconfig without a cluster): secrecy is moot.
    if (Boolean(shape.secret) !== secret.has(name) && seen.outputs[name] !== null) {
      errors.push(
        `${name}: expected ${shape.secret ? "a secret" : "not a secret"}, got ${secret.has(name) ? "a secret" : "plain text"}`,
      );
    }
  }
  for (const name of Object.keys(seen.outputs)) {
    if (!(name in contract.outputs) && seen.outputs[name] !== undefined) {
      const suggestion = { ...suggestShape(seen.outputs[name]), ...(secret.has(name) ? { secret: true } : {}) };
      errors.push(`${name}: exported but not in the contract; add it: "${name}": ${JSON.stringify(suggestion)}`);
    }
  }
  return errors;
}

/** The shape a value has, as a starting point for a contract entry. */
export function suggestShape(value: unknown): Shape {
  const t = typeOfValue(value);
  if (t === "array") {
    const first = (value as unknown[])[0];
    return first === undefined ? { type: "array" } : { type: "array", items: suggestShape(first) };
  }
  if (t === "object") {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, suggestShape(v)] as const);
    return { type: "object", properties: Object.fromEntries(entries) };
  }
  return { type: t === "undefined" ? "null" : t };
}

/** A plausible value of a shape, for fake StackReference outputs; `overrides` by dotted path win. */
export function sampleValue(shape: Shape, at: string, overrides: Readonly<Record<string, unknown>> = {}): unknown {
  if (at in overrides) return overrides[at];
  const t = typesOf(shape)[0];
  switch (t) {
    case "string":
      return `${at}-value`;
    case "number":
      return 1;
    case "boolean":
      return false;
    case "null":
      return null;
    case "array":
      return shape.items ? [sampleValue(shape.items, `${at}[0]`, overrides)] : [];
    case "object": {
      if (shape.properties) {
        return Object.fromEntries(
          Object.entries(shape.properties).map(([k, sub]) => [k, sampleValue(sub, `${at}.${k}`, overrides)]),
        );
      }
      return shape.additionalProperties ? { key: sampleValue(shape.additionalProperties, `${at}.key`, overrides) } : {};
    }
  }
}

/** Fake outputs of a whole platform stack (pending outputs included), and which of them are secret. */
export function sampleOutputs(
  contract: OutputContract,
  overrides: Readonly<Record<string, unknown>> = {},
): { outputs: Record<string, unknown>; secretOutputNames: string[] } {
  const outputs = Object.fromEntries(
    Object.entries(contract.outputs).map(([name, shape]) => [name, sampleValue(shape, name, overrides)]),
  );
  const secretOutputNames = Object.entries(contract.outputs)
    .filter(([, shape]) => shape.secret)
    .map(([name]) => name);
  return { outputs, secretOutputNames };
}
