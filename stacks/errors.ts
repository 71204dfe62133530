/** A configuration problem names the key, what was given and what is expected; all problems are reported at once. */
import { RunError } from "@pulumi/pulumi/errors";

export interface ConfigProblem {
  /** Key path inside the project namespace, e.g. `workerPools[0].count`. */
  readonly path: string;
  readonly expected: string;
  /** The offending value as given; omitted for missing keys, masked for secret keys. */
  readonly given?: unknown;
  readonly givenIsSecret?: boolean;
  /** The path is a full key outside the project's namespace (a misspelt namespace), printed as is. */
  readonly outsideNamespace?: boolean;
}

function describeGiven(problem: ConfigProblem): string {
  if (problem.givenIsSecret) return " (got [secret])";
  if (!("given" in problem) || problem.given === undefined) return "";
  return ` (got ${JSON.stringify(problem.given)})`;
}

/**
 * A RunError: the Pulumi Node.js runtime prints a RunError's message alone (cmd/run/run.js,
 * "Always hide the stack for RunErrors"); any other error it prints with util.inspect, an object dump
 * in colour. The stack's name is `stackName`: a property named `stack` would replace Error#stack.
 */
export class ConfigError extends RunError {
  constructor(
    readonly stackName: string,
    readonly namespace: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const plural = problems.length === 1 ? "problem" : "problems";
    const lines = problems.map(
      (p) => `  - ${p.outsideNamespace ? "" : `${namespace}:`}${p.path}: ${p.expected}${describeGiven(p)}`,
    );
    super(
      `Configuration of stack "${stackName}" is invalid (${problems.length} ${plural}); nothing was created:\n${lines.join("\n")}`,
    );
    this.name = "ConfigError";
  }
}
