/** A configuration problem names the key, what was given and what is expected; all problems are reported at once. */

export interface ConfigProblem {
  /** Key path inside the project namespace, e.g. `workerPools[0].count`. */
  readonly path: string;
  readonly expected: string;
  /** The offending value as given; omitted for missing keys, masked for secret keys. */
  readonly given?: unknown;
  readonly givenIsSecret?: boolean;
}

function describeGiven(problem: ConfigProblem): string {
  if (problem.givenIsSecret) return " (got [secret])";
  if (!("given" in problem) || problem.given === undefined) return "";
  return ` (got ${JSON.stringify(problem.given)})`;
}

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly namespace: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const plural = problems.length === 1 ? "problem" : "problems";
    const lines = problems.map((p) => `  - ${namespace}:${p.path}: ${p.expected}${describeGiven(p)}`);
    super(
      `Configuration of stack "${stack}" is invalid (${problems.length} ${plural}); nothing was created:\n${lines.join("\n")}`,
    );
    this.name = "ConfigError";
  }
}
