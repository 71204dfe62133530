/**
 * kubeadm-bootstrap.sh, the script every node runs at first boot, run for real by bash with its
 * real curl probes (an HTTPS /readyz with a pinned CA, TCP connects), against test doubles for what
 * only a node has: `kubeadm`, `kubectl`, node-prepare.sh and etcd-membership.sh record their calls and
 * fail as often as a scenario asks. What is asserted is the script's own behaviour: which node may
 * initialise a cluster, the retries and their bounds, the clean slate between attempts, the status
 * file. (The real kubeadm, etcd and API server parts are proven in the bootstrap ring.)
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { type AddressInfo, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type Evaluation, evaluateStack } from "./harness";
import { requiredTool } from "./validators";

const LOOPBACK = "127.0.0.1";

interface Sandbox {
  readonly dir: string;
  readonly pki: string;
  readonly calls: string;
  readonly state: string;
}

const sandboxes: string[] = [];
afterAll(() => {
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
});

/** A node's file system in a temp dir: bootstrap.env, PKI and the test doubles. */
function sandbox(env: Record<string, string>, caPem: string): Sandbox {
  const dir = mkdtempSync(path.join(tmpdir(), "kubeadm-bootstrap-"));
  sandboxes.push(dir);
  const pki = path.join(dir, "pki");
  const bin = path.join(dir, "bin");
  const sbin = path.join(dir, "sbin");
  for (const d of [pki, bin, sbin, path.join(dir, "boot"), path.join(dir, "counters")]) mkdirSync(d);
  writeFileSync(path.join(pki, "ca.crt"), caPem);
  writeFileSync(path.join(pki, "ca.key"), "the node's CA key, written by cloud-init\n");
  writeFileSync(
    path.join(dir, "boot", "bootstrap.env"),
    Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join("\n"),
  );
  const calls = path.join(dir, "calls");
  writeFileSync(calls, "");
  // Each double appends "<name> <args>" to calls and fails until it has been called FAIL_<NAME> + 1 times.
  const double = (name: string, extra = "") => `#!/bin/bash
echo "${name} $*" >> "${calls}"
${extra}
key="$(echo "${name}_$1" | tr -c 'a-zA-Z0-9_\\n' '_')"
counter="${dir}/counters/$key"
n=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$counter"
limit_var="FAIL_$key"
[ "$n" -gt "\${!limit_var:-0}" ]
`;
  writeFileSync(path.join(bin, "kubeadm"), double("kubeadm", `[ "$1" = reset ] && { rm -rf "${pki}"/*; exit 0; }`), {
    mode: 0o755,
  });
  writeFileSync(path.join(bin, "kubectl"), double("kubectl"), { mode: 0o755 });
  writeFileSync(path.join(sbin, "node-prepare.sh"), double("node-prepare.sh"), { mode: 0o755 });
  writeFileSync(path.join(sbin, "etcd-membership.sh"), double("etcd-membership.sh"), { mode: 0o755 });
  return { dir, pki, calls, state: path.join(dir, "state") };
}

interface Outcome {
  readonly status: number | null;
  readonly calls: string[];
  readonly statusFile: Record<string, string>;
  readonly stderr: string;
}

function runScript(box: Sandbox, script: string, env: Record<string, string> = {}): Promise<Outcome> {
  const file = path.join(box.dir, "kubeadm-bootstrap.sh");
  writeFileSync(file, script, { mode: 0o755 });
  return new Promise((resolve) => {
    const child = spawn("bash", [file], {
      env: {
        PATH: `${path.join(box.dir, "bin")}:${process.env.PATH}`,
        BOOTSTRAP_DIR: path.join(box.dir, "boot"),
        PKI_DIR: box.pki,
        STATE_DIR: box.state,
        SBIN: path.join(box.dir, "sbin"),
        KUBELET_CONFIG: path.join(box.dir, "kubelet-config.yaml"),
        FIRST_DELAY: "0",
        DECISION_POLL_SECONDS: "1",
        INIT_DECISION_SECONDS: "2",
        JOIN_WAIT_SECONDS: "0",
        JOIN_ATTEMPTS: "3",
        ...env,
      },
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (status) => {
      const statusFile = Object.fromEntries(
        readFileSync(path.join(box.state, "bootstrap.status"), "utf8")
          .trim()
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      const calls = readFileSync(box.calls, "utf8").trim().split("\n").filter(Boolean);
      resolve({ status, calls, statusFile, stderr });
    });
  });
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe("kubeadm-bootstrap.sh (as rendered into the prod stack's user data)", () => {
  let run: Evaluation;
  let script: string;
  let firstNodeEnv: Record<string, string>;
  let workerEnv: Record<string, string>;
  let tls: { key: string; cert: string };
  let readyz: HttpsServer;
  let readyzPort: number;
  let etcdListener: Server;
  let etcdPort: number;

  const envOf = (userData: string) => {
    const files = (parseYaml(userData) as { write_files: { path: string; content: string }[] }).write_files;
    const env = files.find((f) => f.path === "/etc/kubernetes/bootstrap/bootstrap.env")?.content ?? "";
    script = files.find((f) => f.path === "/usr/local/sbin/kubeadm-bootstrap.sh")?.content ?? "";
    return Object.fromEntries(
      env
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), JSON.parse(line.slice(line.indexOf("=") + 1)) as string]),
    );
  };

  beforeAll(async () => {
    requiredTool("openssl");
    run = await evaluateStack("prod");
    const userData = (name: string) => String(run.one("openstack:compute/instance:Instance", name).inputs.userData);
    firstNodeEnv = envOf(userData("mesh-prod-control-plane-0"));
    workerEnv = envOf(userData("mesh-prod-general-0"));
    // The API endpoint's stand-in: HTTPS /readyz with a certificate for 127.0.0.1 that the node pins.
    const dir = mkdtempSync(path.join(tmpdir(), "readyz-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=test-api",
        "-addext",
        `subjectAltName=IP:${LOOPBACK}`,
        "-days",
        "1",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    tls = {
      key: readFileSync(path.join(dir, "key.pem"), "utf8"),
      cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
    };
    rmSync(dir, { recursive: true });
    readyz = createHttpsServer(tls, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => readyz.listen(0, LOOPBACK, r));
    readyzPort = (readyz.address() as AddressInfo).port;
    // A peer's etcd: something accepting connections on the etcd client port.
    etcdListener = createServer((socket) => socket.end());
    await new Promise<void>((r) => etcdListener.listen(0, LOOPBACK, r));
    etcdPort = (etcdListener.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => readyz.close(r));
    await new Promise((r) => etcdListener.close(r));
  });

  it("the rendered environment names the role, the node's address and the rest of the control plane", () => {
    expect(firstNodeEnv.NODE_ROLE).toBe("init");
    expect(firstNodeEnv.NODE_NAME).toBe("mesh-prod-control-plane-0");
    const peers = firstNodeEnv.CONTROL_PLANE_PEERS.split(" ");
    expect(peers).toHaveLength(2);
    expect(peers).not.toContain(firstNodeEnv.NODE_ADDRESS);
    expect(workerEnv.NODE_ROLE).toBe("worker");
    expect(workerEnv.CONTROL_PLANE_PEERS).toBe("");
    expect(script).toContain("INIT_DECISION_SECONDS");
  });

  it("the first control-plane node initialises only after nothing answered for the whole decision window", async () => {
    const box = sandbox({ ...firstNodeEnv, API_ENDPOINT: LOOPBACK, CONTROL_PLANE_PEERS: LOOPBACK }, tls.cert);
    const started = Date.now();
    const out = await runScript(box, script, {
      API_PORT: String(await closedPort()),
      ETCD_CLIENT_PORT: String(await closedPort()),
      INIT_DECISION_SECONDS: "2",
    });
    expect(out.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(out.calls.filter((c) => c.startsWith("kubeadm"))).toEqual([
      // --skip-token-print: the join command kubeadm would print carries the token (console log).
      `kubeadm init --config ${path.join(box.dir, "boot")}/init.yaml --skip-token-print`,
    ]);
    expect(out.stderr).toMatch(/init: nothing answered for 2 s/);
    expect(out.statusFile).toMatchObject({ phase: "complete", state: "succeeded", role: "init" });
  });

  it("a replaced first node joins when another control-plane node's etcd answers, even with the endpoint down, and never initialises", async () => {
    const box = sandbox({ ...firstNodeEnv, API_ENDPOINT: LOOPBACK, CONTROL_PLANE_PEERS: LOOPBACK }, tls.cert);
    const out = await runScript(box, script, {
      API_PORT: String(await closedPort()),
      ETCD_CLIENT_PORT: String(etcdPort),
      JOIN_ATTEMPTS: "2",
    });
    expect(out.calls.some((c) => c.startsWith("kubeadm init"))).toBe(false);
    expect(out.stderr).toContain(`join: control-plane node ${LOOPBACK} answers on ${etcdPort}`);
    // The endpoint never answered, so the join itself cannot proceed: bounded, and said so.
    expect(out.status).toBe(1);
    expect(out.statusFile).toMatchObject({ phase: "kubeadm", state: "failed", attempt: "2" });
    expect(out.statusFile.detail).toMatch(/gave up after 2 attempts/);
  });

  it("a first node whose endpoint answers joins as a control-plane node, cleaning etcd membership first", async () => {
    const box = sandbox({ ...firstNodeEnv, API_ENDPOINT: LOOPBACK, CONTROL_PLANE_PEERS: "" }, tls.cert);
    const out = await runScript(box, script, { API_PORT: String(readyzPort) });
    expect(out.status).toBe(0);
    expect(out.calls).toEqual([
      "node-prepare.sh ",
      "etcd-membership.sh before-join",
      `kubeadm join --config ${path.join(box.dir, "boot")}/join.yaml`,
    ]);
  });

  it("retries a failed join after kubeadm reset, with the keys cloud-init wrote put back", async () => {
    const box = sandbox({ ...workerEnv, API_ENDPOINT: LOOPBACK }, tls.cert);
    const before = readFileSync(path.join(box.pki, "ca.crt"), "utf8");
    const out = await runScript(box, script, { API_PORT: String(readyzPort), FAIL_kubeadm_join: "2" });
    expect(out.status).toBe(0);
    expect(out.calls.filter((c) => c.startsWith("kubeadm")).map((c) => c.split(" ")[1])).toEqual([
      "join",
      "reset",
      "join",
      "reset",
      "join",
    ]);
    expect(readFileSync(path.join(box.pki, "ca.crt"), "utf8")).toBe(before);
    expect(out.statusFile).toMatchObject({ phase: "complete", state: "succeeded" });
    expect(out.stderr).toMatch(/\[kubeadm\] retrying: attempt 1 exited 1; next in 0 s/);
  });

  it("gives up after the bound and leaves the reason in the status file", async () => {
    const box = sandbox({ ...workerEnv, API_ENDPOINT: LOOPBACK }, tls.cert);
    const out = await runScript(box, script, { API_PORT: String(readyzPort), FAIL_kubeadm_join: "99" });
    expect(out.status).toBe(1);
    expect(out.calls.filter((c) => c.startsWith("kubeadm join"))).toHaveLength(3);
    expect(out.statusFile).toMatchObject({ phase: "kubeadm", state: "failed", attempt: "3", role: "worker" });
  });

  it("retries node preparation before anything else", async () => {
    const box = sandbox({ ...workerEnv, API_ENDPOINT: LOOPBACK }, tls.cert);
    const out = await runScript(box, script, { API_PORT: String(readyzPort), FAIL_node_prepare_sh_: "2" });
    expect(out.status).toBe(0);
    expect(out.calls.slice(0, 4)).toEqual([
      "node-prepare.sh ",
      "node-prepare.sh ",
      "node-prepare.sh ",
      expect.stringMatching(/^kubeadm join/),
    ]);
  });

  it("a control-plane node that replaces another removes it from etcd and the API after joining", async () => {
    const box = sandbox(
      { ...firstNodeEnv, NODE_ROLE: "control-plane", API_ENDPOINT: LOOPBACK, REPLACES: "mesh-prod-control-plane-0" },
      tls.cert,
    );
    const out = await runScript(box, script, { API_PORT: String(readyzPort) });
    expect(out.status).toBe(0);
    expect(out.calls).toEqual([
      "node-prepare.sh ",
      "etcd-membership.sh before-join",
      expect.stringMatching(/^kubeadm join/),
      "etcd-membership.sh after-join",
      "kubectl --kubeconfig /etc/kubernetes/admin.conf delete node mesh-prod-control-plane-0 --ignore-not-found",
    ]);
  });

  it("leaves a node that is already a member alone", async () => {
    const box = sandbox({ ...workerEnv, API_ENDPOINT: LOOPBACK }, tls.cert);
    writeFileSync(path.join(box.dir, "kubelet-config.yaml"), "kind: KubeletConfiguration\n");
    const out = await runScript(box, script);
    expect(out.status).toBe(0);
    expect(out.calls).toEqual([]);
    expect(out.statusFile.detail).toBe("already a cluster member; nothing to do");
  });
});
