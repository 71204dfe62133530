/**
 * Running the real tools: every call bounded in time, and a failure carries the command line, the
 * exit status and the tool's own output, so `npm run e2e:bootstrap` fails loudly and usefully.
 */
import { spawnSync } from "node:child_process";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  /** Seconds before the tool is killed (SIGKILL) and the step fails. */
  readonly timeoutSeconds?: number;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly commandLine: string;
}

export class ToolError extends Error {}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? [`... (${all.length - lines} lines above)`, ...all.slice(-lines)] : all).join("\n");
}

/** Runs a tool; returns its output whatever the exit status (for checks that expect a failure). */
export function attempt(command: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const commandLine = [command, ...args].map(quote).join(" ");
  const result = spawnSync(command, args, {
    encoding: "utf8",
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeout: (options.timeoutSeconds ?? 60) * 1000,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
    throw new ToolError(
      `${commandLine}\n  ${timedOut ? `timed out after ${options.timeoutSeconds ?? 60} s` : result.error.message}` +
        `${result.stdout ? `\n--- stdout ---\n${tail(result.stdout)}` : ""}` +
        `${result.stderr ? `\n--- stderr ---\n${tail(result.stderr)}` : ""}`,
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, commandLine };
}

/** Runs a tool that must succeed; throws a ToolError with its output otherwise. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const result = attempt(command, args, options);
  if (result.status !== 0) throw failure(result, `exited with status ${result.status}`);
  return result;
}

/** A ToolError showing what the tool printed. */
export function failure(result: RunResult, why: string): ToolError {
  return new ToolError(
    `${result.commandLine}\n  ${why}` +
      `${result.stdout.trim() ? `\n--- stdout ---\n${tail(result.stdout)}` : ""}` +
      `${result.stderr.trim() ? `\n--- stderr ---\n${tail(result.stderr)}` : ""}`,
  );
}
