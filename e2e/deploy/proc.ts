/**
 * Every external command of the OpenStack e2e run: bounded in time (the child's process group is
 * killed, by its pid, when the bound is reached or the run is interrupted), its whole output kept
 * in a numbered log file, and a failure that carries the command line, the exit status and the tail
 * of the output.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Seconds before the command's process group is killed and the command fails. */
  readonly timeoutSeconds: number;
  /** Text written to the command's stdin. */
  readonly input?: string;
  /** Copy output to this process's stderr as it comes (long steps: start.sh, engine.sh). */
  readonly stream?: boolean;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly commandLine: string;
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

const running = new Set<ChildProcess>();
let interrupted = false;
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

export function describeFailure(result: RunResult, lines = 40, options: { stdout?: boolean } = {}): string {
  const why = result.timedOut ? "timed out" : `exit status ${result.status}`;
  return [
    `${result.commandLine}: ${why} after ${result.seconds.toFixed(0)} s (full output: ${result.logFile})`,
    ...(result.stdout.trim() && options.stdout !== false ? ["--- stdout (tail) ---", tail(result.stdout, lines)] : []),
    ...(result.stderr.trim() ? ["--- stderr (tail) ---", tail(result.stderr, lines)] : []),
  ].join("\n");
}

/** Runs a command; resolves whatever its exit status. */
export function attempt(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const commandLine = [command, ...args].map(quote).join(" ");
  logCounter += 1;
  const slug = `${String(logCounter).padStart(3, "0")}-${path.basename(command)}-${args
    .filter((a) => /^[a-z][\w-]*$/.test(a))
    .slice(0, 2)
    .join("-")}`;
  const logFile = logDir ? path.join(logDir, `${slug}.log`) : "";
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (interrupted) {
      reject(new CommandError(`${commandLine}: not started, the run was interrupted`));
      return;
    }
    const child = spawn(command, [...args], {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout ends the command and its children
    });
    running.add(child);
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
      killGroup(child, "SIGTERM");
      setTimeout(() => killGroup(child, "SIGKILL"), 10_000).unref();
    }, options.timeoutSeconds * 1000);
    const finish = (status: number | null) => {
      clearTimeout(timer);
      running.delete(child);
      const result: RunResult = {
        status,
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
    };
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new CommandError(`${commandLine}: cannot start: ${error.message}`));
    });
    child.on("close", (status) => finish(status));
  });
}

/** Runs a command and fails unless it exits 0. */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await attempt(command, args, options);
  if (result.status !== 0) throw new CommandError(describeFailure(result), result);
  return result;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** On SIGINT/SIGTERM: stop the running command (its group, by pid); later commands still run if `allowAfter`. */
export function interruptRunning(): void {
  interrupted = true;
  for (const child of running) killGroup(child, "SIGTERM");
}

/** Clean-up after an interruption must still run its commands. */
export function allowCommandsAgain(): void {
  interrupted = false;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
