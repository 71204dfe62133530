/**
 * `npm run e2e:bootstrap [-- --stack <name>]... [--keep]`: the node bootstrap of every stack
 * proven against the real kubeadm, etcd and kube-apiserver of the pinned version, on loopback.
 *
 * Per stack (dev, staging, prod by default): evaluate the program offline as `pulumi up` would send
 * it, with fresh keys (evaluate.ts); then, with each node's rendered user data (stack.ts):
 * `kubeadm config validate` on every kubeadm document; kubeadm's certificate and kubeconfig phases
 * on the first control-plane node's files (our CAs kept, the API server certificate signed by our
 * CA with the endpoint, VIP and first service IP as SANs); etcd + kube-apiserver started with the
 * flags kubeadm renders (e2e/kubernetes/apiserver.sh); the program's own admin kubeconfig lists
 * namespaces; the CRDs of ../shared/charts install and every Kubernetes object the program creates
 * outside charts passes a strict server-side dry run (objects.ts); the readiness gate's script passes;
 * kubeadm computes the join hash the program pins; with kube-controller-manager running, the join
 * itself (joinProof.ts: cluster-info signed with the token, kubeadm's discovery, a kubelet's TLS
 * bootstrap CSR approved and signed by our CA); etcd membership repair on a real 3-member etcd
 * (etcdMembership.ts, once per run); negative cases show the checks can fail. Every server is stopped, also on failure or Ctrl-C.
 *
 * Binaries come from e2e/kubernetes/toolchain.sh (cached under $E2E_CACHE_DIR, default
 * ~/.cache/istio-openstack-e2e; a cold build takes 10-18 minutes on 2 cores). Prints a timing
 * table and writes it to e2e/.work/bootstrap-timings.json. Scratch files (they hold private keys)
 * are removed after a passing stack, kept under e2e/.work/bootstrap/run-<pid>/<stack>/ after a
 * failing one (until the next run).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { commandsEnded, runTool as run, stopRunning } from "../lib/proc";
import type { EvaluatedStack } from "./evaluate";
import { type StackProof as Proof, StackProof, type StackReport } from "./stack";

const ROOT = path.resolve(__dirname, "..", "..");
const WORK = path.join(ROOT, "e2e", ".work");
/** Scratch of this run; a run per process, so two runs in one checkout do not meet. */
const SCRATCH_ROOT = path.join(WORK, "bootstrap");
const SCRATCH = path.join(SCRATCH_ROOT, `run-${process.pid}`);
const TIMINGS = path.join(WORK, "bootstrap-timings.json");
const APISERVER_SH = path.join(ROOT, "e2e", "kubernetes", "apiserver.sh");
const TOOLCHAIN_SH = path.join(ROOT, "e2e", "kubernetes", "toolchain.sh");
const TOOLCHAIN_TIMEOUT_SECONDS = 45 * 60;
const EVALUATION_TIMEOUT_SECONDS = 180;

const log = (line: string) => process.stdout.write(`[e2e:bootstrap] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const since = (start: bigint) => Math.round(Number(process.hrtime.bigint() - start) / 1e6);

function parseArgs(argv: readonly string[]): { stacks: string[]; keep: boolean } {
  const stacks: string[] = [];
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stack" && argv[i + 1]) stacks.push(argv[++i]);
    else if (argv[i] === "--keep") keep = true;
    else throw new Error(`bad argument ${argv[i]}; usage: npm run e2e:bootstrap -- [--stack <name>]... [--keep]`);
  }
  return { stacks: stacks.length ? stacks : ["dev", "staging", "prod"], keep };
}

/** The stack evaluated in a fresh process (Pulumi's runtime and module cache are per process). */
function evaluate(stack: string): Promise<EvaluatedStack> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, path.join(__dirname, "evaluate.ts"), stack],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: EVALUATION_TIMEOUT_SECONDS * 1000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`evaluating stack ${stack} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as EvaluatedStack);
      },
    );
  });
}

/**
 * toolchain.sh: progress streams to stderr, the report lines and (last) the bin dir come on stdout.
 * E2E_KUBERNETES_BIN_DIR (as for apiserver.sh) names a ready bin dir instead, e.g. while debugging.
 */
function toolchain(): Promise<{ binDir: string; report: string }> {
  const given = process.env.E2E_KUBERNETES_BIN_DIR;
  if (given)
    return Promise.resolve({ binDir: given, report: `E2E_KUBERNETES_BIN_DIR=${given} (toolchain.sh not run)` });
  return new Promise((resolve, reject) => {
    const child = spawn(TOOLCHAIN_SH, [], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), TOOLCHAIN_TIMEOUT_SECONDS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.trim().split("\n");
      if (code === 0 && lines.length > 0)
        resolve({ binDir: lines[lines.length - 1], report: lines.slice(0, -1).join("\n") });
      else
        reject(
          new Error(
            `${TOOLCHAIN_SH} failed (${signal ? `killed by ${signal}` : `exit ${code}`}); its output is above\n${stdout}`,
          ),
        );
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function table(reports: readonly StackReport[], toolchainMs: number, totalMs: number): string {
  const steps = [...new Set(reports.flatMap((r) => r.steps.map((s) => s.step)))];
  const width = Math.max(...steps.map((s) => s.length), 24);
  const cell = (text: string) => text.padStart(12);
  const lines = [
    `${"step".padEnd(width)}${reports.map((r) => cell(r.stack)).join("")}`,
    ...steps.map(
      (step) =>
        `${step.padEnd(width)}${reports
          .map((r) => {
            const found = r.steps.find((s) => s.step === step);
            return cell(found ? seconds(found.ms) : "-");
          })
          .join("")}`,
    ),
    `${"stack total (with evaluate)".padEnd(width)}${reports.map((r) => cell(`${seconds(r.totalMs + (r.steps[0]?.ms ?? 0))}${r.ok ? "" : " FAIL"}`)).join("")}`,
    "",
    `toolchain (toolchain.sh): ${seconds(toolchainMs)}; whole run: ${seconds(totalMs)}`,
  ];
  return lines.join("\n");
}

/** Removes the scratch dirs of earlier runs whose process is gone (kept failures included). */
function removeStaleScratch(): void {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const entry of existsSync(SCRATCH_ROOT) ? readdirSync(SCRATCH_ROOT) : []) {
    const pid = /^run-(\d+)$/.exec(entry)?.[1];
    if (!pid || !alive(Number(pid))) rmSync(path.join(SCRATCH_ROOT, entry), { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const started = process.hrtime.bigint();
  const { stacks, keep } = parseArgs(process.argv.slice(2));
  let current: Proof | undefined;
  // Like a shell trap: end the running tool, stop the servers by pid, then exit 128 + signal.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`[e2e:bootstrap] ${signal}: stopping the running tool and the servers\n`);
    const proof = current;
    stopRunning();
    void commandsEnded(10_000)
      .then(() => proof?.stopServer())
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  removeStaleScratch();
  mkdirSync(SCRATCH, { recursive: true });

  log(`stacks: ${stacks.join(", ")}; evaluating them (fresh keys) while toolchain.sh makes sure the binaries exist`);
  const toolchainStarted = process.hrtime.bigint();
  const [tools, ...evaluations] = await Promise.all([
    toolchain().then((t) => ({ ...t, ms: since(toolchainStarted) })),
    ...stacks.map(evaluate),
  ]);
  log(`toolchain ready in ${seconds(tools.ms)}: ${tools.binDir}`);
  for (const line of tools.report.split("\n")) log(`  ${line}`);
  const binaryVersion = (await run(path.join(tools.binDir, "kubeadm"), ["version", "-o", "short"])).stdout.trim();
  const pinned = `v${evaluations[0]?.kubernetesVersion}`;
  if (binaryVersion !== pinned) log(`WARNING: kubeadm is ${binaryVersion}, the stacks pin ${pinned}`);
  const kubectl = process.env.KUBECTL ?? "kubectl";
  log(
    `kubectl: ${(await run(kubectl, ["version", "--client", "-o", "json"])).stdout.match(/"gitVersion":\s*"([^"]+)"/)?.[1]}`,
  );

  const reports: StackReport[] = [];
  // The etcd membership proof runs once, for the first stack with a control plane to join.
  const membershipStack = evaluations.find((ev) => ev.nodes.filter((n) => n.name.includes("control-plane")).length > 1);
  for (const ev of evaluations) {
    log(`--- stack ${ev.stack}: endpoint ${ev.floatingIp}${ev.vip ? `, VIP ${ev.vip}` : ""}, ${ev.nodes.length} nodes`);
    current = new StackProof(
      ev,
      {
        binDir: tools.binDir,
        apiserverSh: APISERVER_SH,
        kubectl,
        ...(ev === membershipStack ? { etcdPorts: [await freePort(), await freePort()] as const } : {}),
      },
      SCRATCH,
      await freePort(),
      (line) => log(`[${ev.stack}] ${line}`),
    );
    const report = await current.run();
    current = undefined;
    if (interrupted) return new Promise<number>(() => {}); // the signal handler exits
    reports.push(report);
    if (report.ok && !keep) rmSync(report.scratch, { recursive: true, force: true });
    if (!report.ok)
      log(`[${ev.stack}] FAILED (scratch kept: ${path.relative(ROOT, report.scratch)}); the tool's output is below`);
  }

  const totalMs = since(started);
  process.stdout.write(`\nTimings (seconds; kubeadm ${binaryVersion}):\n${table(reports, tools.ms, totalMs)}\n`);
  writeFileSync(
    TIMINGS,
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        kubernetesVersion: evaluations[0]?.kubernetesVersion,
        kubeadmVersion: binaryVersion,
        toolchainMs: tools.ms,
        totalMs,
        stacks: reports.map(({ scratch: _scratch, ...r }) => r),
      },
      null,
      2,
    )}\n`,
  );
  log(`timings written to ${path.relative(ROOT, TIMINGS)}`);
  const failed = reports.filter((r) => !r.ok);
  if (failed.length === 0 && !keep) rmSync(SCRATCH, { recursive: true, force: true });
  if (failed.length) {
    process.stderr.write(`\n[e2e:bootstrap] FAILED: ${failed.map((r) => r.stack).join(", ")}\n`);
    for (const r of failed) process.stderr.write(`\n[${r.stack}] ${r.error}\n`);
    return 1;
  }
  log(`PASS: ${reports.map((r) => r.stack).join(", ")} in ${seconds(totalMs)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `[e2e:bootstrap] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
