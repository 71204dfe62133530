/**
 * The GitHub Actions workflows (.github/workflows): actionlint (with shellcheck on run: blocks) over
 * the real files and over a deliberately broken one, and what the pipelines promise: a preview per
 * stack on pull requests with the policy pack and a PR comment, the offline plan in the job summary,
 * dev deployed from main and staging/prod promoted through protected environments.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ROOT } from "./harness";
import { requiredTool } from "./validators";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
/** A GitHub Actions expression, ${{ inner }}. */
const expression = (inner: string) => ["$", "{{ ", inner, " }}"].join("");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string;
  uses?: string;
  with?: Record<string, unknown>;
  strategy?: { matrix?: { stack?: string[] } };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = (file: string) => parse(readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
const actionlint = (...args: string[]) =>
  spawnSync("bash", [path.join(ROOT, "tools", "actionlint.sh"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 300_000,
  });

describe("actionlint", () => {
  it("passes on the project's workflows", () => {
    const result = actionlint();
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  it("catches a broken workflow: unknown context, bad job reference, unquoted shell variable", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "workflows-"));
    const broken = path.join(dir, "broken.yml");
    writeFileSync(
      broken,
      [
        "on: pull_request",
        "jobs:",
        "  preview:",
        "    needs: tests-that-do-not-exist",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        `      - run: echo ${expression("matrix.stack")}`,
        "      - run: cp $SOURCE /tmp/out",
      ].join("\n"),
    );
    const result = actionlint("-oneline", broken);
    rmSync(dir, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/tests-that-do-not-exist/);
    expect(result.stdout).toMatch(/property "stack" is not defined/);
    // actionlint runs shellcheck on run: blocks only when shellcheck is installed: it must be.
    requiredTool("shellcheck");
    expect(result.stdout).toMatch(/SC2086/);
  });
});

describe("on a pull request", () => {
  const preview = workflow("preview.yml");

  it("runs npm ci and npm test", () => {
    const runs = (preview.jobs.test.steps ?? []).map((s) => s.run);
    expect(runs).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
  });

  it("previews dev, staging and prod with pulumi/actions (pinned major), the policy pack and a PR comment", () => {
    const job = preview.jobs.preview;
    expect(job.strategy?.matrix?.stack).toEqual(["dev", "staging", "prod"]);
    const action = (job.steps ?? []).find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(action?.uses).toMatch(/^pulumi\/actions@v\d+$/);
    expect(action?.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy" });
    expect(String(action?.with?.["stack-name"])).toContain("matrix.stack");
  });

  it("posts the offline plan of the stack to the job summary", () => {
    const plan = (preview.jobs.preview.steps ?? []).find((s) => s.run?.includes("npm run --silent plan"));
    expect(plan?.run).toMatch(/plan -- --stack "\$STACK"/);
    expect(plan?.run).toMatch(/>>"\$GITHUB_STEP_SUMMARY"/);
  });
});

describe("on main", () => {
  const deploy = workflow("deploy.yml");
  const up = workflow("pulumi-up.yml");

  it("tests, then deploys dev, then promotes staging and prod in that order", () => {
    expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
    const { dev, staging, prod } = deploy.jobs;
    expect([dev.needs, staging.needs, prod.needs]).toEqual(["test", "dev", "staging"]);
    expect([dev.with?.stack, staging.with?.stack, prod.with?.stack]).toEqual(["dev", "staging", "prod"]);
    for (const job of [dev, staging, prod]) expect(job.uses).toBe("./.github/workflows/pulumi-up.yml");
  });

  it("each `pulumi up` runs in the GitHub environment named after its stack, with credentials from secrets", () => {
    const job = up.jobs.up;
    expect(job.environment).toBe(expression("inputs.stack"));
    const action = (job.steps ?? []).find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(action?.with).toMatchObject({ command: "up", policyPacks: "policy" });
    const fromSecrets = Object.entries((job as { env?: Record<string, string> }).env ?? {})
      .filter(([, value]) => value.includes("secrets."))
      .map(([name]) => name);
    expect(fromSecrets).toEqual(
      expect.arrayContaining(["PULUMI_ACCESS_TOKEN", "OS_AUTH_URL", "OS_APPLICATION_CREDENTIAL_SECRET"]),
    );
  });

  it("pins every action to a major version", () => {
    const uses = [deploy, up, workflow("preview.yml")].flatMap((w) =>
      Object.values(w.jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => (s.uses ? [s.uses] : []))),
    );
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });
});
