/**
 * Running the real tools: every call bounded in time, and a failure carries the command line, the
 * exit status and the tool's own output, so `npm run e2e:bootstrap` fails loudly and usefully.
 * Calls are asynchronous so that a signal is handled at once (see stopRunningTools).
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Seconds before the tool is killed (SIGKILL) and the step fails. */
  readonly timeoutSeconds?: number;
  /** Run even after stopRunningTools (the command that stops the servers). */
  readonly evenWhenStopping?: boolean;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly commandLine: string;
}

export class ToolError extends Error {}

const running = new Set<ChildProcess>();
let stopping = false;

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? [`... (${all.length - lines} lines above)`, ...all.slice(-lines)] : all).join("\n");
}

const shown = (result: { stdout: string; stderr: string }) =>
  `${result.stdout.trim() ? `\n--- stdout ---\n${tail(result.stdout)}` : ""}` +
  `${result.stderr.trim() ? `\n--- stderr ---\n${tail(result.stderr)}` : ""}`;

/** Runs a tool; resolves with its output whatever the exit status (for checks that expect a failure). */
export function attempt(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const commandLine = [command, ...args].map(quote).join(" ");
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  return new Promise((resolve, reject) => {
    if (stopping && !options.evenWhenStopping) {
      reject(new ToolError(`${commandLine}\n  not started: interrupted`));
      return;
    }
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutSeconds * 1000);
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new ToolError(`${commandLine}\n  ${error.message}`));
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (timedOut)
        reject(new ToolError(`${commandLine}\n  timed out after ${timeoutSeconds} s${shown({ stdout, stderr })}`));
      else if (signal) reject(new ToolError(`${commandLine}\n  killed by ${signal}${shown({ stdout, stderr })}`));
      else resolve({ status, stdout, stderr, commandLine });
    });
  });
}

/** Runs a tool that must succeed; rejects with a ToolError showing its output otherwise. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await attempt(command, args, options);
  if (result.status !== 0) throw failure(result, `exited with status ${result.status}`);
  return result;
}

/** A ToolError showing what the tool printed. */
export function failure(result: RunResult, why: string): ToolError {
  return new ToolError(`${result.commandLine}\n  ${why}${shown(result)}`);
}

/**
 * On a signal: ends the tools still running (by their pids) and starts no new ones (except those
 * marked evenWhenStopping), so nothing can start a server afterwards.
 */
export function stopRunningTools(): void {
  stopping = true;
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null) child.kill("SIGTERM");
  }
}

/** Resolves once no tool runs any more, or after `timeoutMs`. */
export async function toolsEnded(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running.size > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
}
