/** Narrow readers over the untyped property bags policies receive. */
export type Props = Readonly<Record<string, unknown>>;

export function record(value: unknown): Props {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : {};
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Reads a dotted path (a.b.c) through nested records. */
export function at(value: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((current, key) => record(current)[key], value);
}
