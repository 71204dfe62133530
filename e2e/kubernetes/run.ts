/**
 * `npm run e2e:kubernetes`: the program's Kubernetes layer deployed by the real Pulumi CLI and the
 * Kubernetes provider (e2e/toolchain) into a real etcd + kube-apiserver + kube-controller-manager
 * on loopback (cluster.sh), in bring-your-own-cluster mode, with STAND-IN charts (standins.ts).
 * Every step asserted and timed; everything destroyed; the control plane stopped by its pids.
 * See e2e/kubernetes/README.md. On this shared machine run it under the kube lock:
 *   flock /work/notes/.e2e-kube.lock npm run e2e:kubernetes
 *
 * Environment:
 *   E2E_STATE_DIR (<repo>/.e2e)   work dir: <state>/kubernetes
 *   E2E_KUBERNETES_BIN_DIR        dir with etcd, kubeadm, kube-apiserver, kube-controller-manager
 *                                 (default: e2e/kubernetes/toolchain.sh builds or finds them)
 *   E2E_STACKS (dev,prod,ambient) which scenarios to run, in order
 *   E2E_KEEP=1                    on a failure, leave the stacks and the control plane as they are
 *                                 (to debug with the printed commands); the next run stops it
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { AssertionError } from "../lib/assert";
import { Bench, log, setRingName } from "../lib/bench";
import { builtOrCached, engine } from "../lib/engine";
import { allowCommandsAgain, CommandError, run, setLogDir, stopRunning, tail } from "../lib/proc";
import { PulumiProject } from "../lib/pulumi";
import { createStandInStorageClass, StandInLoadBalancer } from "./cloudStandIns";
import { KubeApi } from "./kubeApi";
import {
  ambientScenario,
  type Context,
  cleanUp,
  clusterSnapshot,
  deployStack,
  devScenario,
  prodScenario,
  type StackScenario,
} from "./scenario";
import { StandInRepository } from "./standins";

const repoRoot = path.resolve(__dirname, "../..");
const stateRoot = path.resolve(process.env.E2E_STATE_DIR ?? path.join(repoRoot, ".e2e"));
const ringDir = path.join(stateRoot, "kubernetes");
/** Everything of one run (cluster, charts, project, backend, plans); removed at the next run's start. */
const runDir = path.join(ringDir, "run");
const clusterDir = path.join(runDir, "cluster");
const CLUSTER_SH = path.join(repoRoot, "e2e/kubernetes/cluster.sh");
const TOOLCHAIN_SH = path.join(repoRoot, "e2e/kubernetes/toolchain.sh");
const SCENARIOS: Readonly<Record<string, (repoUrl: string) => StackScenario>> = {
  dev: devScenario,
  prod: prodScenario,
  ambient: ambientScenario,
};

function chosenScenarios(): string[] {
  const chosen = (process.env.E2E_STACKS ?? "dev,prod,ambient").split(",").map((s) => s.trim());
  const unknown = chosen.filter((s) => !(s in SCENARIOS));
  if (unknown.length || chosen.length === 0)
    throw new Error(
      `E2E_STACKS: unknown ${unknown.join(", ") || "(empty)"}; choose from ${Object.keys(SCENARIOS).join(", ")}`,
    );
  return chosen;
}

/** An earlier run's files, and its control plane if one still runs (interrupted, or kept): stopped by its pid files. */
async function previousRunCleared(): Promise<string> {
  const stateDir = path.join(clusterDir, "state");
  const running = existsSync(stateDir) && readdirSync(stateDir).some((f) => f.endsWith(".pid"));
  if (running) await run("bash", [CLUSTER_SH, "stop", clusterDir], { timeoutSeconds: 120 });
  rmSync(runDir, { recursive: true, force: true });
  return running ? "stopped an earlier run's control plane by its pids" : "nothing running";
}

async function kubernetesBinaries(): Promise<{ binDir: string; report: string[] }> {
  const given = process.env.E2E_KUBERNETES_BIN_DIR;
  if (given) return { binDir: given, report: [`E2E_KUBERNETES_BIN_DIR=${given}`] };
  const result = await run("bash", [TOOLCHAIN_SH], { cwd: repoRoot, timeoutSeconds: 3600, stream: true });
  const lines = result.stdout.trim().split("\n");
  return { binDir: lines[lines.length - 1], report: lines.slice(0, -1) };
}

const keep = process.env.E2E_KEEP === "1";
/** The stacks' secrets provider: local only, throwaway stacks. */
const PASSPHRASE = "e2e-kubernetes-local-only";

/** How to reach what a kept run left: the engine, the project and the cluster. */
function keepHint(): string {
  return [
    `cd ${path.join(runDir, "project")} && source ~/.cache/istio-openstack-e2e/engine.env`,
    `PULUMI_BACKEND_URL=file://${path.join(runDir, "backend")} PULUMI_CONFIG_PASSPHRASE=${PASSPHRASE} pulumi ...`,
    `kubectl --kubeconfig ${path.join(clusterDir, "admin.conf")} ...`,
    `bash ${CLUSTER_SH} stop ${clusterDir}`,
  ].join("\n  ");
}

async function main(): Promise<number> {
  setRingName("e2e:kubernetes");
  const scenarios = chosenScenarios();
  mkdirSync(ringDir, { recursive: true });
  const bench = new Bench();
  setLogDir(path.join(ringDir, "logs", bench.startedAt.toISOString().replace(/[:.]/g, "-")));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    log(`${signal}: stopping the running command, then cleaning up (again to exit at once)`);
    if (signals > 1) process.exit(130);
    stopRunning();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const versions: Record<string, unknown> = {};
  let failure: unknown;
  let clusterStarted = false;
  let context: Context | undefined;
  const repo = new StandInRepository(path.join(ringDir, "charts"), path.join(repoRoot, "../shared/charts"));
  let loadBalancer: StandInLoadBalancer | undefined;
  const stackNames: string[] = [];
  try {
    await bench.time("clean slate (an earlier run's control plane)", previousRunCleared, (note) => note);
    mkdirSync(runDir, { recursive: true });
    const { env: engineEnv, summary } = await bench.time(
      "engine (toolchain: engine.sh kubernetes)",
      () => engine(repoRoot, ["kubernetes"]),
      builtOrCached,
    );
    versions.engine = summary;
    const binaries = await bench.time("Kubernetes binaries (toolchain.sh)", kubernetesBinaries, (b) =>
      b.report.some((l) => /built now/.test(l)) ? "built" : "cached",
    );
    versions.kubernetes = binaries.report;

    clusterStarted = true; // whatever cluster.sh starts, even partly, is stopped at the end
    const adminConf = await bench.time(
      "control plane start (cluster.sh: kubeadm phases, etcd, kube-apiserver, kube-controller-manager)",
      async () => {
        const result = await run("bash", [CLUSTER_SH, "start", clusterDir], {
          env: { ...process.env, E2E_KUBERNETES_BIN_DIR: binaries.binDir, KUBE_CLUSTER_NAME: "e2e-kubernetes" },
          timeoutSeconds: 300,
          stream: true,
        });
        return result.stdout.trim().split("\n").pop() as string;
      },
    );
    const api = new KubeApi(adminConf);
    versions.apiserver = ((await api.get("/version")) as unknown as { gitVersion: string }).gitVersion;

    const repoUrl = await repo.start();
    log(`stand-in chart repository: ${repoUrl} (serving ${path.join(ringDir, "charts")})`);
    loadBalancer = new StandInLoadBalancer(api);
    loadBalancer.start();
    log(`stand-in default StorageClass: ${await createStandInStorageClass(api)}`);

    const pulumi = new PulumiProject({
      repoRoot,
      workDir: runDir,
      env: {
        ...engineEnv,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        // Any Kubernetes provider the program did not configure explicitly fails instead of
        // reaching whatever cluster a default kubeconfig names.
        KUBECONFIG: path.join(runDir, "no-default-kubeconfig"),
        // The provider's Helm trusts the stand-in repository's certificate (Go reads SSL_CERT_FILE).
        SSL_CERT_FILE: repo.caBundle,
      },
    });
    versions.pulumi = await pulumi.version();
    versions.provider = (summary.find((l) => l.startsWith("pulumi-resource-kubernetes")) ?? "").replace(/\s+/g, " ");
    log(`engine: pulumi ${versions.pulumi}; provider ${versions.provider}; kube-apiserver ${versions.apiserver}`);

    context = {
      repoRoot,
      workDir: runDir,
      pulumi,
      bench,
      api,
      repo,
      loadBalancer,
      kubeconfig: readFileSync(adminConf, "utf8"),
      baseline: await clusterSnapshot(api),
    };
    for (const name of scenarios) {
      const scenario = SCENARIOS[name](repoUrl);
      stackNames.push(scenario.stack);
      await deployStack(context, scenario);
    }
    versions.standInCharts = repo.charts;
  } catch (error) {
    failure = error;
  }

  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    process.stderr.write(`\n[e2e:kubernetes] FAILED: ${message}\n`);
    if (failure instanceof Error && !(failure instanceof AssertionError) && !(failure instanceof CommandError)) {
      const frames = (failure.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
      process.stderr.write(`${frames.slice(0, 5).join("\n")}\n`);
    }
    allowCommandsAgain();
    if (keep) {
      log(`E2E_KEEP=1: stacks and control plane left as they are: ${keepHint()}`);
    } else if (context) {
      const ctx = context;
      const problems = await bench
        .time("clean-up after the failure (destroy)", () => cleanUp(ctx, stackNames))
        .catch((e: Error) => [e.message]);
      if (problems.length) process.stderr.write(`[e2e:kubernetes] clean-up problems:\n  ${problems.join("\n  ")}\n`);
    }
    for (const name of ["kube-apiserver.log", "kube-controller-manager.log"]) {
      const file = path.join(clusterDir, "state", name);
      if (existsSync(file)) process.stderr.write(`\n--- ${file} (tail) ---\n${tail(readFileSync(file, "utf8"), 15)}\n`);
    }
  }

  allowCommandsAgain();
  loadBalancer?.stop();
  await repo.stop();
  if (clusterStarted && !(keep && failure !== undefined)) {
    await bench
      .time("control plane stop (cluster.sh stop, by pid)", () =>
        run("bash", [CLUSTER_SH, "stop", clusterDir], { timeoutSeconds: 120 }),
      )
      .catch((error: Error) => {
        failure ??= error;
        process.stderr.write(`[e2e:kubernetes] cluster.sh stop failed: ${tail(error.message, 20)}\n`);
      });
  }

  const benchFile = bench.write(ringDir, { result: failure === undefined ? "passed" : "failed", versions });
  process.stdout.write(
    `\n${bench.table()}\n\nengine: pulumi ${versions.pulumi ?? "?"}; ${versions.provider ?? ""}; kube-apiserver ${versions.apiserver ?? "?"}\n` +
      `charts: STAND-INS made from ../shared/charts (not the real charts): ${repo.charts.join(", ") || "none"}\n`,
  );
  process.stdout.write(`timings: ${benchFile}\n`);
  log(failure === undefined ? "PASSED" : "FAILED");
  return failure === undefined ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[e2e:kubernetes] ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
