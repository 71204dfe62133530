/**
 * `npm run e2e:openstack`: the project's own program (index.ts, components/) deployed by the real
 * Pulumi CLI and the bridged OpenStack provider (e2e/toolchain) on a local OpenStack control plane
 * (e2e/openstack) or on a real OpenStack project, every step asserted, everything destroyed.
 * See e2e/deploy/README.md.
 *
 * Environment:
 *   E2E_CLOUD, E2E_CLOUDS_YAML   a real cloud: its clouds.yaml entry (start.sh is skipped)
 *   E2E_EXTERNAL_NETWORK (public), E2E_IMAGE (e2e-image), E2E_CONTROL_PLANE_FLAVOR (m1.medium),
 *   E2E_WORKER_FLAVOR (m1.small), E2E_WORKERS (1; 1-2), E2E_ADMIN_CIDR (203.0.113.0/24),
 *   E2E_NODE_CIDR (10.20.0.0/22), E2E_BYO_CIDR (10.50.0.0/24), E2E_NAME_PREFIX (e2e)
 *   E2E_STATE_DIR (<repo>/.e2e)  work dir: <state>/deploy; the local control plane: <state>/openstack
 *   E2E_KEEP_OPENSTACK=1         leave a control plane this run started running
 *   E2E_PYTHON                   Python with openstacksdk (default /usr/bin/python3)
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { AssertionError } from "../lib/assert";
import { Bench, log, setRingName } from "../lib/bench";
import { builtOrCached, engine } from "../lib/engine";
import { allowCommandsAgain, attempt, CommandError, run, setLogDir, stopRunning, tail } from "../lib/proc";
import { PulumiProject } from "../lib/pulumi";
import { Cloud } from "./cloud";
import {
  bringYourOwnNetwork,
  type Context,
  cleanUp,
  configurationErrors,
  deployMain,
  destroyMain,
  names,
  type Settings,
} from "./scenario";

const repoRoot = path.resolve(__dirname, "../..");
const stateRoot = path.resolve(process.env.E2E_STATE_DIR ?? path.join(repoRoot, ".e2e"));
const workDir = path.join(stateRoot, "deploy");
const localStateDir = path.join(stateRoot, "openstack");
const OPENSTACK_SCRIPTS = path.join(repoRoot, "e2e/openstack");

function settingsFromEnv(): Settings & { local: boolean; cloudsYaml?: string } {
  const env = process.env;
  const local = !env.E2E_CLOUD;
  const workers = Number(env.E2E_WORKERS ?? "1");
  if (![1, 2].includes(workers)) throw new Error(`E2E_WORKERS must be 1 or 2, got ${env.E2E_WORKERS}`);
  if (!local && !env.E2E_CLOUDS_YAML)
    log("E2E_CLOUDS_YAML unset: clouds.yaml from the OpenStack clients' usual places");
  const cloudsYaml = local ? path.join(localStateDir, "clouds.yaml") : env.E2E_CLOUDS_YAML;
  return {
    local,
    ...(cloudsYaml ? { cloudsYaml: path.resolve(cloudsYaml) } : {}),
    cloud: env.E2E_CLOUD ?? "e2e",
    externalNetwork: env.E2E_EXTERNAL_NETWORK ?? "public",
    image: env.E2E_IMAGE ?? "e2e-image",
    controlPlaneFlavor: env.E2E_CONTROL_PLANE_FLAVOR ?? "m1.medium",
    workerFlavor: env.E2E_WORKER_FLAVOR ?? "m1.small",
    adminCidr: env.E2E_ADMIN_CIDR ?? "203.0.113.0/24",
    nodeCidr: env.E2E_NODE_CIDR ?? "10.20.0.0/22",
    byoCidr: env.E2E_BYO_CIDR ?? "10.50.0.0/24",
    workers,
    prefix: env.E2E_NAME_PREFIX ?? "e2e",
  };
}

/** Whether every daemon of the local control plane is running (pid files checked by e2e/openstack's own helper). */
async function controlPlaneRunning(): Promise<boolean> {
  const check = await attempt(
    "bash",
    [
      "-c",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
      'source "$1/lib/common.sh"; for s in "${OS_SERVICES[@]}"; do service_running "$s" || exit 1; done',
      "check",
      OPENSTACK_SCRIPTS,
    ],
    { env: { ...process.env, E2E_STATE_DIR: stateRoot }, timeoutSeconds: 60 },
  );
  return check.status === 0;
}

async function main(): Promise<number> {
  setRingName("e2e:openstack");
  const settings = settingsFromEnv();
  mkdirSync(workDir, { recursive: true });
  const bench = new Bench();
  setLogDir(path.join(workDir, "logs", bench.startedAt.toISOString().replace(/[:.]/g, "-")));

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
  let startedControlPlane = false;
  let failure: unknown;
  let context: Context | undefined;
  try {
    const { env: engineEnv, summary } = await bench.time(
      "engine (toolchain: engine.sh)",
      () => engine(repoRoot),
      builtOrCached,
    );
    versions.engine = summary;

    if (settings.local) {
      const wasRunning = await controlPlaneRunning();
      // Whatever start.sh brings up, even partly before failing, this run stops at the end.
      startedControlPlane = !wasRunning;
      await bench.time(
        "control plane start (start.sh)",
        () =>
          run("bash", [path.join(OPENSTACK_SCRIPTS, "start.sh")], {
            env: { ...process.env, E2E_STATE_DIR: stateRoot },
            timeoutSeconds: 1800,
            stream: true,
          }),
        () => (wasRunning ? "was already running: health check only" : "started"),
      );
    } else {
      log(
        `a real cloud: ${settings.cloud}${settings.cloudsYaml ? ` from ${settings.cloudsYaml}` : ""}; start.sh skipped`,
      );
    }

    const cloud = new Cloud({
      cloud: settings.cloud,
      ...(settings.cloudsYaml ? { cloudsYaml: settings.cloudsYaml } : {}),
      python: process.env.E2E_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"),
      repoRoot,
      workDir,
      ...(settings.local ? { localStateDir } : {}),
    });
    const pulumi = new PulumiProject({
      repoRoot,
      workDir,
      env: {
        ...cloud.env,
        ...engineEnv,
        OS_CLOUD: settings.cloud,
        PULUMI_CONFIG_PASSPHRASE: "e2e-openstack-local-only",
      },
    });
    context = { repoRoot, workDir, settings, pulumi, cloud, bench };
    versions.pulumi = await pulumi.version();
    versions.provider = (summary.find((l) => l.startsWith("pulumi-resource-openstack")) ?? "").replace(/\s+/g, " ");
    versions.providerBuild = providerBuild(summary);
    log(`engine: pulumi ${versions.pulumi}; provider ${versions.provider} (${versions.providerBuild})`);

    const ctx = context;
    const baseline = await bench.time("clean slate (previous runs, baseline)", async () => {
      const problems = await cleanUp(ctx);
      if (problems.length) throw new Error(`could not clean up a previous run:\n  ${problems.join("\n  ")}`);
      const { main, byo, premade } = names(settings);
      const snap = await cloud.snapshot([`${main}-`, `${byo}-`, `${premade}-`]);
      const left = Object.entries(snap).filter(([k, v]) => k !== "project_id" && Array.isArray(v) && v.length > 0);
      if (left.length) {
        throw new Error(
          `the project already holds resources named after the e2e clusters (${left.map(([k]) => k).join(", ")}); ` +
            "delete them (or set E2E_NAME_PREFIX) and run again",
        );
      }
      return settings.local ? (await cloud.leftovers()).items : undefined;
    });
    if (baseline?.length) log(`the project already held ${baseline.length} unrelated resource(s); they are left alone`);

    await configurationErrors(ctx);
    await deployMain(ctx);
    await bringYourOwnNetwork(ctx);
    await destroyMain(ctx, baseline);
  } catch (error) {
    failure = error;
  }

  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    process.stderr.write(`\n[e2e:openstack] FAILED: ${message}\n`);
    if (failure instanceof Error && !(failure instanceof AssertionError) && !(failure instanceof CommandError)) {
      const frames = (failure.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
      process.stderr.write(`${frames.slice(0, 5).join("\n")}\n`);
    }
    if (context) {
      process.stderr.write(`\n${context.cloud.serviceLogTails(message)}\n`);
      allowCommandsAgain();
      const ctx = context;
      const problems = await bench
        .time("clean-up after the failure (destroy)", () => cleanUp(ctx))
        .catch((e: Error) => [e.message]);
      if (problems.length) process.stderr.write(`[e2e:openstack] clean-up problems:\n  ${problems.join("\n  ")}\n`);
    }
  }

  allowCommandsAgain();
  if (startedControlPlane && process.env.E2E_KEEP_OPENSTACK !== "1") {
    await bench
      .time("control plane stop (stop.sh)", () =>
        run("bash", [path.join(OPENSTACK_SCRIPTS, "stop.sh")], {
          env: { ...process.env, E2E_STATE_DIR: stateRoot },
          timeoutSeconds: 300,
        }),
      )
      .catch((error: Error) => process.stderr.write(`[e2e:openstack] stop.sh failed: ${tail(error.message, 20)}\n`));
  } else if (settings.local) {
    log(
      startedControlPlane
        ? "E2E_KEEP_OPENSTACK=1: the control plane keeps running"
        : "the control plane was running before this run: left running",
    );
  }

  const benchFile = bench.write(workDir, {
    result: failure === undefined ? "passed" : "failed",
    cloud: settings.local ? "local (e2e/openstack)" : settings.cloud,
    versions,
  });
  process.stdout.write(`\n${bench.table()}\n\nengine: pulumi ${versions.pulumi ?? "?"}; ${versions.provider ?? ""}\n`);
  process.stdout.write(`timings: ${benchFile}\n`);
  log(failure === undefined ? "PASSED" : "FAILED");
  return failure === undefined ? 0 : 1;
}

/** The provider build's identity: its cache entry (versions) and the hash of the bridge source it was built from. */
function providerBuild(summary: string[]): string {
  const line = summary.find((l) => l.startsWith("pulumi-resource-openstack"));
  const dir = line?.split(/\s+/).pop();
  if (!dir) return "unknown";
  const entry = path.dirname(dir);
  const source = path.join(entry, "source.sha256");
  const hash = existsSync(source) ? readFileSync(source, "utf8").trim().slice(0, 12) : "?";
  return `${path.basename(entry)}, bridge source sha256 ${hash}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[e2e:openstack] ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
