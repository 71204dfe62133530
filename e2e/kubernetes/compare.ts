/**
 * "What was planned arrived": every value the plan sets is found, equal, in what a release or the
 * API server holds; what the other side adds (a chart's defaults, the server's defaults) is ignored.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** JSON with object keys sorted (Helm's toJson and the API server order keys their own way). */
export function canonical(value: unknown): string {
  const sort = (v: unknown): Json => {
    if (Array.isArray(v)) return v.map(sort);
    if (isObject(v))
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => v[k] !== undefined)
          .map((k) => [k, sort(v[k])]),
      );
    return v as Json;
  };
  return JSON.stringify(sort(value));
}

export interface SubsetOptions {
  /**
   * exact: a planned list must be found as it is (Helm replaces lists wholesale); elementwise: same
   * length, each element a subset (the API server adds defaults inside list items, e.g. webhooks).
   */
  readonly lists: "exact" | "elementwise";
}

/** Where `actual` does not hold `planned`: one line per path ("" when it does). */
export function subsetMismatches(planned: unknown, actual: unknown, options: SubsetOptions, at = ""): string[] {
  const where = at || "(top)";
  if (isObject(planned)) {
    if (!isObject(actual)) return [`${where}: planned an object, found ${canonical(actual)}`];
    return Object.entries(planned).flatMap(([key, value]) => {
      const path = at ? `${at}.${key}` : key;
      // A planned null removes a chart default (Helm): the key must be gone.
      if (value === null)
        return key in actual && actual[key] !== null
          ? [`${path}: planned null (removed), found ${canonical(actual[key])}`]
          : [];
      if (value === undefined) return [];
      if (!(key in actual)) return [`${path}: planned ${canonical(value)}, missing`];
      return subsetMismatches(value, actual[key], options, path);
    });
  }
  if (Array.isArray(planned) && options.lists === "elementwise") {
    if (!Array.isArray(actual) || actual.length !== planned.length)
      return [`${where}: planned ${canonical(planned)}, found ${canonical(actual)}`];
    return planned.flatMap((item, i) => subsetMismatches(item, actual[i], options, `${at}[${i}]`));
  }
  return canonical(planned) === canonical(actual)
    ? []
    : [`${where}: planned ${canonical(planned)}, found ${canonical(actual)}`];
}
