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
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  env?: Record<string, string>;
  permissions?: Record<string, string>;
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
    const fromSecrets = Object.entries(action?.env ?? {})
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

/** `secrets.X` referenced anywhere in a value (GITHUB_TOKEN aside: every job has it). */
const stackSecretsIn = (value: unknown): string[] =>
  [...JSON.stringify(value ?? null).matchAll(/secrets\.([A-Z_]+)/g)]
    .map((m) => m[1])
    .filter((n) => n !== "GITHUB_TOKEN");
const GUARD = ".github/scripts/require-reviewed-environment.sh";

describe("a stack's credentials, on pull requests and on main", () => {
  const files = ["preview.yml", "deploy.yml", "pulumi-up.yml"];
  const jobs = files.flatMap((file) =>
    Object.entries(workflow(file).jobs).map(([name, job]) => ({ where: `${file}:${name}`, job })),
  );
  const holding = jobs.filter(({ job }) => !job.uses && stackSecretsIn(job).length > 0);

  it("never run on pull_request_target (which would hand a fork's code the repository's secrets)", () => {
    for (const file of files) expect(Object.keys(workflow(file).on)).not.toContain("pull_request_target");
  });

  it("live only in jobs that name a GitHub environment (whose secrets are released after its protection rules)", () => {
    expect(holding.map((h) => h.where).sort()).toEqual(["preview.yml:preview", "pulumi-up.yml:up"]);
    for (const { job } of holding) expect(job.environment).toBeTruthy();
    expect(workflow("preview.yml").jobs.preview.environment).toBe(`preview-${expression("matrix.stack")}`);
  });

  it("are in no job-wide environment: only the steps that need them see them (not npm ci, not the plan)", () => {
    for (const { where, job } of holding) {
      expect([where, stackSecretsIn(job.env)]).toEqual([where, []]);
      for (const step of job.steps ?? []) {
        if (step.run?.includes("npm")) expect([where, step.run, stackSecretsIn(step)]).toEqual([where, step.run, []]);
      }
    }
  });

  it("come after a first step that refuses an environment no reviewer guards, with the permission to read it", () => {
    for (const { where, job } of holding) {
      const steps = job.steps ?? [];
      const guard = steps.findIndex((s) => s.run?.includes(GUARD));
      const firstWithSecrets = steps.findIndex((s) => stackSecretsIn(s).length > 0);
      expect([where, guard]).toEqual([where, 1]); // right after the checkout
      expect(guard).toBeLessThan(firstWithSecrets);
      expect(job.permissions).toMatchObject({ actions: "read" });
    }
    // A called workflow gets at most its caller's token permissions.
    const deploy = workflow("deploy.yml");
    for (const stack of ["dev", "staging", "prod"])
      expect(deploy.jobs[stack].permissions).toMatchObject({ actions: "read" });
  });
});

describe("the reviewer guard (require-reviewed-environment.sh)", () => {
  const script = path.join(ROOT, GUARD);
  /** Runs the guard with a fake `gh` that prints `settings` (or fails when it is undefined). */
  const guard = (environment: string, stack: string, settings?: object) => {
    const dir = mkdtempSync(path.join(tmpdir(), "fake-gh-"));
    writeFileSync(
      path.join(dir, "gh"),
      settings === undefined
        ? "#!/bin/sh\necho 'HTTP 403: Resource not accessible by integration' >&2\nexit 1\n"
        : `#!/bin/sh\necho "$*" >>"${dir}/calls"\ncat <<'JSON'\n${JSON.stringify(settings)}\nJSON\n`,
      { mode: 0o755 },
    );
    const result = spawnSync("bash", [script, environment, stack], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GITHUB_REPOSITORY: "acme/platform" },
    });
    let calls = "";
    try {
      calls = readFileSync(path.join(dir, "calls"), "utf8");
    } catch {
      calls = "";
    }
    rmSync(dir, { recursive: true, force: true });
    return { ...result, calls };
  };
  const reviewers = { type: "required_reviewers", prevent_self_review: true, reviewers: [{ type: "Team" }] };

  it("lets prod's job go on behind a required reviewer, asking the API for that environment", () => {
    const result = guard("preview-prod", "prod", { can_admins_bypass: false, protection_rules: [reviewers] });
    expect(result.status).toBe(0);
    expect(result.calls).toBe("api repos/acme/platform/environments/preview-prod\n");
    expect(result.stdout).toMatch(/requires a reviewer/);
    expect(result.stdout).not.toMatch(/::warning::/);
  });

  it("stops staging's job when its environment has no required reviewer (e.g. created on the fly)", () => {
    for (const settings of [{ protection_rules: [] }, { protection_rules: [{ type: "branch_policy" }] }, {}]) {
      const result = guard("preview-staging", "staging", settings);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/::error::environment preview-staging has no required reviewers/);
    }
  });

  it("stops the job when the settings cannot be read, and warns about self-review and admin bypass", () => {
    expect(guard("prod", "prod").status).toBe(1);
    const lax = guard("prod", "prod", {
      protection_rules: [{ type: "required_reviewers", prevent_self_review: false }],
    });
    expect(lax.status).toBe(0);
    expect(lax.stdout).toMatch(/::warning::.*approve its own job/);
    expect(lax.stdout).toMatch(/::warning::administrators can bypass/);
  });

  it("asks nothing for dev", () => {
    const result = guard("preview-dev", "dev", { protection_rules: [] });
    expect(result.status).toBe(0);
    expect(result.calls).toBe("");
  });

  it("passes shellcheck", () => {
    const result = spawnSync(requiredTool("shellcheck"), [script], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });
});
