/**
 * Running the real tools of both e2e drivers (`e2e/bootstrap/`, `e2e/deploy/`): every call bounded
 * in time, its output collected (and, once setLogDir was called, kept in a numbered log file), the
 * running children tracked so that a signal ends them at once by pid, and a failure that carries the
 * command line, the exit status and the tail of the output.
 *
 * Two flavours share one spawn:
 * - attempt / run / describeFailure (`e2e:openstack`): a timeout resolves (`timedOut`), the command
 *   runs in its own process group so a timeout or a stop ends its children too;
 * - attemptTool / runTool / toolFailure (`e2e:bootstrap`): a timeout or a signal rejects, the tool
 *   runs in this process's group (`processGroup: false`) and is killed with SIGKILL on timeout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Seconds before the command is killed and fails (default 60). */
  readonly timeoutSeconds?: number;
  /** Text written to the command's stdin. */
  readonly input?: string;
  /** Copy output to this process's stderr as it comes (long steps: start.sh, engine.sh). */
  readonly stream?: boolean;
  /** Run even after stopRunning (e.g. the command that stops the servers). */
  readonly evenWhenStopping?: boolean;
}

interface SpawnOptions extends RunOptions {
  /**
   * Own process group (detached): a timeout sends SIGTERM to the group, then SIGKILL 10 s later, and
   * stopRunning ends the group. Otherwise a timeout sends SIGKILL to the child, stopRunning SIGTERM.
   */
  readonly processGroup: boolean;
  /** Messages of the errors when the command is not started or cannot start. */
  readonly notStarted: (commandLine: string) => string;
  readonly cannotStart: (commandLine: string, error: Error) => string;
}

export interface RunResult {
  readonly status: number | null;
  /** The signal that ended the command, if one did. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly commandLine: string;
  /** The log file of the whole output, or "" when no log dir is set. */
  readonly logFile: string;
  readonly seconds: number;
  readonly timedOut: boolean;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
  }
}

const running = new Map<ChildProcess, { readonly processGroup: boolean }>();
let stopping = false;
let logDir = "";
let logCounter = 0;

export function setLogDir(dir: string): void {
  logDir = dir;
  mkdirSync(dir, { recursive: true });
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? [`... (${all.length - lines} lines above)`, ...all.slice(-lines)] : all).join("\n");
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function spawnCommand(command: string, args: readonly string[], options: SpawnOptions): Promise<RunResult> {
  const commandLine = [command, ...args].map(quote).join(" ");
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  logCounter += 1;
  const slug = `${String(logCounter).padStart(3, "0")}-${path.basename(command)}-${args
    .filter((a) => /^[a-z][\w-]*$/.test(a))
    .slice(0, 2)
    .join("-")}`;
  const logFile = logDir ? path.join(logDir, `${slug}.log`) : "";
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (stopping && !options.evenWhenStopping) {
      reject(new CommandError(options.notStarted(commandLine)));
      return;
    }
    const child = spawn(command, [...args], {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // its own process group, so a timeout ends the command and its children
      ...(options.processGroup ? { detached: true } : {}),
    });
    running.set(child, { processGroup: options.processGroup });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.stream) process.stderr.write(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.stream) process.stderr.write(chunk);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => {
      timedOut = true;
      if (options.processGroup) {
        killGroup(child, "SIGTERM");
        setTimeout(() => killGroup(child, "SIGKILL"), 10_000).unref();
      } else child.kill("SIGKILL");
    }, timeoutSeconds * 1000);
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new CommandError(options.cannotStart(commandLine, error)));
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const result: RunResult = {
        status,
        signal,
        stdout,
        stderr,
        commandLine,
        logFile,
        seconds: (Date.now() - started) / 1000,
        timedOut,
      };
      if (logFile) {
        writeFileSync(
          logFile,
          `$ ${commandLine}\n# cwd ${options.cwd ?? process.cwd()}; exit ${status}${timedOut ? " (timed out)" : ""}; ${result.seconds.toFixed(1)} s\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
        );
      }
      resolve(result);
    });
  });
}

// --- e2e:openstack flavour: a timeout resolves with timedOut ---

export function describeFailure(result: RunResult, lines = 40, options: { stdout?: boolean } = {}): string {
  const why = result.timedOut ? "timed out" : `exit status ${result.status}`;
  return [
    `${result.commandLine}: ${why} after ${result.seconds.toFixed(0)} s (full output: ${result.logFile})`,
    ...(result.stdout.trim() && options.stdout !== false ? ["--- stdout (tail) ---", tail(result.stdout, lines)] : []),
    ...(result.stderr.trim() ? ["--- stderr (tail) ---", tail(result.stderr, lines)] : []),
  ].join("\n");
}

/** Runs a command in its own process group; resolves whatever its exit status. */
export function attempt(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return spawnCommand(command, args, {
    ...options,
    processGroup: true,
    notStarted: (commandLine) => `${commandLine}: not started, the run was interrupted`,
    cannotStart: (commandLine, error) => `${commandLine}: cannot start: ${error.message}`,
  });
}

/** Runs a command and fails unless it exits 0. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await attempt(command, args, options);
  if (result.status !== 0) throw new CommandError(describeFailure(result), result);
  return result;
}

// --- e2e:bootstrap flavour: a timeout or a signal rejects ---

const shown = (result: { stdout: string; stderr: string }) =>
  `${result.stdout.trim() ? `\n--- stdout ---\n${tail(result.stdout)}` : ""}` +
  `${result.stderr.trim() ? `\n--- stderr ---\n${tail(result.stderr)}` : ""}`;

/** Runs a tool; resolves with its output whatever the exit status (for checks that expect a failure). */
export async function attemptTool(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await spawnCommand(command, args, {
    ...options,
    processGroup: false,
    notStarted: (commandLine) => `${commandLine}\n  not started: interrupted`,
    cannotStart: (commandLine, error) => `${commandLine}\n  ${error.message}`,
  });
  if (result.timedOut)
    throw new CommandError(
      `${result.commandLine}\n  timed out after ${options.timeoutSeconds ?? 60} s${shown(result)}`,
      result,
    );
  if (result.signal)
    throw new CommandError(`${result.commandLine}\n  killed by ${result.signal}${shown(result)}`, result);
  return result;
}

/** Runs a tool that must succeed; rejects with a CommandError showing its output otherwise. */
export async function runTool(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await attemptTool(command, args, options);
  if (result.status !== 0) throw toolFailure(result, `exited with status ${result.status}`);
  return result;
}

/** A CommandError showing what the tool printed. */
export function toolFailure(result: RunResult, why: string): CommandError {
  return new CommandError(`${result.commandLine}\n  ${why}${shown(result)}`, result);
}

// --- both ---

/**
 * On a signal: ends the commands still running (by their pids: the process group of those that have
 * one) and starts no new ones (except those marked evenWhenStopping) until allowCommandsAgain.
 */
export function stopRunning(): void {
  stopping = true;
  for (const [child, { processGroup }] of running) {
    if (processGroup) killGroup(child, "SIGTERM");
    else if (child.pid !== undefined && child.exitCode === null) child.kill("SIGTERM");
  }
}

/** Clean-up after an interruption must still run its commands. */
export function allowCommandsAgain(): void {
  stopping = false;
}

/** Resolves once no command runs any more, or after `timeoutMs`. */
export async function commandsEnded(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running.size > 0 && Date.now() < deadline) await sleep(50);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
