/**
 * The bootstrap proof of one stack, against the real kubeadm, etcd and kube-apiserver. Input: the
 * stack evaluated offline with fresh keys (evaluate.ts). Every step is timed; the first failure
 * throws with the failing tool's output; the API server started here is always stopped.
 */
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { deterministicEcKey } from "../../tools/mockPki";
import { certRequest, locallySignedCert, selfSignedCert } from "../../tools/mockPki";
import { freshKeySalt } from "../../tools/mocks";
import {
  discoveryHashIn,
  firstServiceIp,
  kubeadmDocuments,
  kubeconfigServer,
  layOut,
  missingApiServerSans,
  redirectKubeconfig,
  signedBy,
  withCertificatesDir,
  writeFilesOf,
} from "./checks";
import type { EvaluatedStack } from "./evaluate";
import { attempt, failure, run } from "./proc";

export interface Tools {
  /** Directory with kubeadm, kube-apiserver and etcd of the pinned version (toolchain.sh). */
  readonly binDir: string;
  readonly apiserverSh: string;
  readonly kubectl: string;
}

export interface StepTiming {
  readonly step: string;
  readonly ms: number;
  readonly detail: string;
}

export interface StackReport {
  readonly stack: string;
  readonly steps: StepTiming[];
  readonly ok: boolean;
  readonly totalMs: number;
  readonly error?: string;
  readonly scratch: string;
}

const PKI = "/etc/kubernetes/pki";
const BOOTSTRAP = "/etc/kubernetes/bootstrap";
/** Kept by kubeadm (it must reuse our CAs and service-account key pair, never make its own). */
const SHARED_PKI = [
  "ca.crt",
  "ca.key",
  "front-proxy-ca.crt",
  "front-proxy-ca.key",
  "etcd/ca.crt",
  "etcd/ca.key",
  "sa.pub",
  "sa.key",
];

interface Node {
  readonly name: string;
  readonly role: "init" | "control-plane" | "worker";
  readonly userData: string;
  readonly root: string;
  /** cloud-config path -> scratch path */
  readonly files: Map<string, string>;
}

export class StackProof {
  private readonly steps: StepTiming[] = [];
  private readonly scratch: string;
  private readonly state: string;
  private serverStarted = false;
  private readonly port: number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly ev: EvaluatedStack,
    private readonly tools: Tools,
    scratchRoot: string,
    port: number,
    log: (line: string) => void,
  ) {
    this.scratch = path.join(scratchRoot, ev.stack);
    this.state = path.join(this.scratch, "apiserver");
    this.port = port;
    this.log = log;
  }

  /** The state dir of the API server this proof starts (for a signal handler to stop it). */
  get serverState(): string | undefined {
    return this.serverStarted ? this.state : undefined;
  }

  /** Runs one timed step; `work` returns what the step proved, for the log and the timings. */
  private step(name: string, work: () => string): void {
    const started = process.hrtime.bigint();
    const detail = work();
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({ step: name, ms, detail });
    this.log(`${name.padEnd(32)} ok ${(ms / 1000).toFixed(1).padStart(5)} s  ${detail}`);
  }

  private fail(message: string): never {
    throw new Error(`[${this.ev.stack}] ${message}`);
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.tools.binDir}:${process.env.PATH ?? ""}` };
  }

  private kubeadm(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutSeconds = 60) {
    return run(path.join(this.tools.binDir, "kubeadm"), args, { env: { ...this.env, ...extraEnv }, timeoutSeconds });
  }

  /** kubectl against the loopback server, verifying its certificate for the endpoint address. */
  private kubectl(kubeconfig: string, args: string[], tlsServerName = this.ev.floatingIp) {
    return attempt(
      this.tools.kubectl,
      [
        "--kubeconfig",
        kubeconfig,
        "--server",
        `https://127.0.0.1:${this.port}`,
        "--tls-server-name",
        tlsServerName,
        "--request-timeout",
        "20s",
        ...args,
      ],
      { env: this.env, timeoutSeconds: 40 },
    );
  }

  run(): StackReport {
    const started = process.hrtime.bigint();
    const totalMs = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({ step: "evaluate (offline, fresh keys)", ms: this.ev.evaluationMs, detail: `${this.ev.nodes.length} nodes` });
    mkdirSync(this.scratch, { recursive: true });
    try {
      this.prove();
      return { stack: this.ev.stack, steps: this.steps, ok: true, totalMs: totalMs(), scratch: this.scratch };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { stack: this.ev.stack, steps: this.steps, ok: false, totalMs: totalMs(), error: message, scratch: this.scratch };
    } finally {
      this.stopServer();
    }
  }

  stopServer(): void {
    if (!this.serverStarted) return;
    this.serverStarted = false;
    const started = process.hrtime.bigint();
    const result = attempt(this.tools.apiserverSh, ["stop", this.state], { timeoutSeconds: 60 });
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({ step: "apiserver.sh stop", ms, detail: result.status === 0 ? "etcd, kube-apiserver stopped" : "FAILED" });
    if (result.status !== 0) this.log(`apiserver.sh stop FAILED:\n${result.stderr}`);
    else this.log(`${"apiserver.sh stop".padEnd(26)} ok  ${(ms / 1000).toFixed(1).padStart(5)} s`);
  }

  private prove(): void {
    const ev = this.ev;
    let nodes: Node[] = [];
    this.step("user data laid out", () => {
      const laidOut = this.layOutNodes();
      nodes = laidOut.nodes;
      return laidOut.detail;
    });
    const init = nodes.find((n) => n.role === "init") ?? this.fail("no node initializes the cluster");
    const initYaml = init.files.get(`${BOOTSTRAP}/init.yaml`) ?? this.fail(`${init.name} has no init.yaml`);

    this.step("kubeadm config validate", () => {
      let count = 0;
      for (const node of nodes) {
        for (const doc of ["init.yaml", "join.yaml"]) {
          const file = node.files.get(`${BOOTSTRAP}/${doc}`);
          if (!file) continue;
          const result = this.kubeadm(["config", "validate", "--config", file]);
          const warnings = `${result.stdout}${result.stderr}`.split("\n").filter((l) => /warn|deprecat/i.test(l));
          if (warnings.length) throw failure(result, `kubeadm accepted ${node.name}/${doc} with warnings:\n${warnings.join("\n")}`);
          count++;
        }
      }
      return `${count} documents accepted`;
    });

    // --- kubeadm's certificate phase on the first control-plane node's files ---
    const pkiDir = path.join(init.root, PKI);
    const scratchInit = path.join(this.scratch, "init-scratch.yaml");
    writeFileSync(scratchInit, withCertificatesDir(readFileSync(initYaml, "utf8"), pkiDir), { mode: 0o600 });
    const digest = (file: string) => createHash("sha256").update(readFileSync(path.join(pkiDir, file))).digest("hex");
    this.step("kubeadm init phase certs", () => {
      const before = new Map(SHARED_PKI.map((f) => [f, digest(f)]));
      const result = this.kubeadm(["init", "phase", "certs", "all", "--config", scratchInit]);
      const changed = SHARED_PKI.filter((f) => digest(f) !== before.get(f));
      if (changed.length) throw failure(result, `kubeadm replaced Pulumi's key material: ${changed.join(", ")}`);
      const pem = (file: string) => readFileSync(path.join(pkiDir, file), "utf8");
      for (const [leaf, ca] of [
        ["apiserver.crt", "ca.crt"],
        ["apiserver-kubelet-client.crt", "ca.crt"],
        ["front-proxy-client.crt", "front-proxy-ca.crt"],
        ["etcd/server.crt", "etcd/ca.crt"],
        ["apiserver-etcd-client.crt", "etcd/ca.crt"],
      ]) {
        if (!signedBy(pem(leaf), pem(ca))) this.fail(`${leaf} is not signed by our ${ca}`);
      }
      const expected = [
        { address: ev.floatingIp, why: "the API endpoint, the plan's floating IP" },
        ...(ev.vip ? [{ address: ev.vip, why: "the Octavia VIP" }] : []),
        { address: firstServiceIp(ev.serviceCidr), why: `the kubernetes Service, first IP of ${ev.serviceCidr}` },
      ];
      const missing = missingApiServerSans(pem("apiserver.crt"), expected);
      if (missing.length) this.fail(missing.join("\n"));
      return `CAs and sa key kept; apiserver.crt by our CA, SANs ${expected.map((e) => e.address).join(", ")}`;
    });

    const kubeconfigDir = path.join(this.scratch, "kubeconfig");
    mkdirSync(kubeconfigDir, { recursive: true });
    this.step("kubeadm init phase kubeconfig", () => {
      for (const which of ["admin", "super-admin"]) {
        this.kubeadm(["init", "phase", "kubeconfig", which, "--config", scratchInit, "--kubeconfig-dir", kubeconfigDir]);
      }
      return "admin.conf, super-admin.conf";
    });

    const manifests = path.join(this.scratch, "manifests");
    mkdirSync(manifests, { recursive: true });
    const etcKubernetesExisted = existsSync("/etc/kubernetes");
    this.step("kubeadm control-plane manifest", () => {
      // --dry-run writes the static pod manifest into KUBEADM_INIT_DRYRUN_DIR instead of /etc/kubernetes.
      this.kubeadm(["init", "phase", "control-plane", "apiserver", "--config", initYaml, "--dry-run"], {
        KUBEADM_INIT_DRYRUN_DIR: manifests,
      });
      if (!etcKubernetesExisted && existsSync("/etc/kubernetes")) this.fail("kubeadm wrote /etc/kubernetes on this host");
      return "kube-apiserver.yaml rendered from init.yaml";
    });

    this.step("apiserver.sh start", () => {
      this.serverStarted = true;
      run(this.tools.apiserverSh, ["start", pkiDir, this.state, path.join(manifests, "kube-apiserver.yaml")], {
        env: {
          ...this.env,
          E2E_KUBERNETES_BIN_DIR: this.tools.binDir,
          APISERVER_PORT: String(this.port),
          APISERVER_TLS_SERVER_NAME: ev.floatingIp,
          APISERVER_READY_TIMEOUT: "120",
        },
        timeoutSeconds: 200,
      });
      return `etcd + kube-apiserver on 127.0.0.1:${this.port}, /readyz 200 for ${ev.floatingIp}`;
    });

    // --- the program's own admin kubeconfig ---
    const programConf = path.join(kubeconfigDir, "program-admin.conf");
    writeFileSync(programConf, ev.kubeconfig, { mode: 0o600 });
    const superAdmin = path.join(kubeconfigDir, "super-admin.conf");
    this.step("program kubeconfig: namespaces", () => {
      if (!ev.kubeconfigIsSecret) this.fail("the kubeconfig stack output is not a secret");
      const server = kubeconfigServer(ev.kubeconfig);
      if (server !== `https://${ev.floatingIp}:6443`) this.fail(`the program's kubeconfig targets ${server}, not the floating IP`);
      const before = this.kubectl(programConf, ["get", "namespaces", "-o", "name"]);
      if (before.status === 0 || !/forbidden/i.test(before.stderr)) {
        throw failure(before, "expected Forbidden before kubeadm:cluster-admins is bound (as before kubeadm init binds it)");
      }
      // What kubeadm init does once the API answers, with super-admin.conf (group system:masters).
      const bind = this.kubectl(superAdmin, [
        "create",
        "clusterrolebinding",
        "kubeadm:cluster-admins",
        "--clusterrole=cluster-admin",
        "--group=kubeadm:cluster-admins",
      ]);
      if (bind.status !== 0) throw failure(bind, "could not create the kubeadm:cluster-admins binding");
      const after = this.kubectl(programConf, ["get", "namespaces", "-o", "name"]);
      if (after.status !== 0) throw failure(after, "the program's admin kubeconfig cannot list namespaces");
      for (const ns of ["default", "kube-system", "kube-public"]) {
        if (!after.stdout.includes(`namespace/${ns}`)) throw failure(after, `namespace ${ns} missing`);
      }
      return `${after.stdout.trim().split("\n").length} namespaces, TLS verified for ${ev.floatingIp}`;
    });

    this.step("readiness gate (readyz-wait.sh)", () => {
      const gate = ev.readinessGate;
      if (gate.environment.API_ENDPOINT !== ev.floatingIp) this.fail(`the gate waits for ${gate.environment.API_ENDPOINT}, not the endpoint`);
      const [interpreter, ...interpreterArgs] = gate.interpreter;
      const result = run(interpreter, [...interpreterArgs, gate.create], {
        env: {
          ...process.env,
          ...gate.environment,
          // Harness bounds and the loopback route; endpoint and CA are the plan's.
          TIMEOUT_SECONDS: "30",
          POLL_SECONDS: "1",
          API_CONNECT_TO: `127.0.0.1:${this.port}`,
        },
        timeoutSeconds: 60,
      });
      return result.stdout.trim().split("\n").pop() ?? "";
    });

    this.step("join: bootstrap token, hash", () => {
      const local = path.join(kubeconfigDir, "super-admin-loopback.conf");
      writeFileSync(
        local,
        redirectKubeconfig(readFileSync(superAdmin, "utf8"), `https://127.0.0.1:${this.port}`, ev.floatingIp),
        { mode: 0o600 },
      );
      // As kubeadm init: create the InitConfiguration's token, its RBAC and the cluster-info ConfigMap.
      this.kubeadm(["init", "phase", "bootstrap-token", "--config", initYaml, "--kubeconfig", local]);
      const tokens = this.kubeadm(["token", "list", "--kubeconfig", local]);
      const ours = joinCredentials(nodes[0]).token;
      if (!tokens.stdout.includes(ours.split(".")[0])) throw failure(tokens, `the program's token ${ours.split(".")[0]}.… is not listed`);
      const join = this.kubeadm(["token", "create", "--print-join-command", "--kubeconfig", local]);
      const kubeadmHash = discoveryHashIn(join.stdout) ?? this.fail(`no discovery hash in: ${join.stdout}`);
      for (const node of nodes) {
        const { caCertHash } = joinCredentials(node);
        if (caCertHash !== kubeadmHash) this.fail(`${node.name} pins ${caCertHash}, kubeadm computes ${kubeadmHash}`);
      }
      return `kubeadm's hash ${kubeadmHash.slice(0, 19)}… = every node's pin`;
    });

    this.step("negative cases", () => this.negativeCases(programConf, pkiDir));
  }

  private layOutNodes(): { nodes: Node[]; detail: string } {
    const nodes: Node[] = this.ev.nodes.map((n) => {
      const root = path.join(this.scratch, "nodes", n.name);
      const files = layOut(root, writeFilesOf(n.userData));
      const env = readFileSync(files.get(`${BOOTSTRAP}/bootstrap.env`) ?? this.fail(`${n.name}: no bootstrap.env`), "utf8");
      const role = /^NODE_ROLE="(init|control-plane|worker)"$/m.exec(env)?.[1] as Node["role"] | undefined;
      if (!role) this.fail(`${n.name}: no NODE_ROLE in bootstrap.env`);
      return { name: n.name, role, userData: n.userData, root, files };
    });
    const inits = nodes.filter((n) => n.role === "init");
    if (inits.length !== 1) this.fail(`expected one init node, got ${inits.map((n) => n.name).join(", ") || "none"}`);
    const read = (node: Node, file: string) => readFileSync(node.files.get(file) ?? this.fail(`${node.name} lacks ${file}`), "utf8");
    for (const node of nodes) {
      if (!node.files.has(`${BOOTSTRAP}/join.yaml`)) this.fail(`${node.name} has no join.yaml`);
      if (read(node, `${PKI}/ca.crt`) !== read(inits[0], `${PKI}/ca.crt`)) this.fail(`${node.name} trusts another CA`);
      const pki = [...node.files.keys()].filter((p) => p.startsWith(`${PKI}/`));
      if (node.role === "worker") {
        if (/PRIVATE KEY/.test(node.userData)) this.fail(`worker ${node.name}'s user data carries a private key`);
        if (pki.join() !== `${PKI}/ca.crt`) this.fail(`worker ${node.name} gets ${pki.join(", ")}; only ca.crt is allowed`);
      } else {
        for (const file of SHARED_PKI) {
          if (read(node, `${PKI}/${file}`) !== read(inits[0], `${PKI}/${file}`)) this.fail(`${node.name}'s ${file} differs from the first node's`);
        }
      }
    }
    // Fresh key material: the CA key is not the one derived from its resource name alone.
    const caPublicKey = new X509Certificate(read(inits[0], `${PKI}/ca.crt`)).publicKey.export({ type: "spki", format: "pem" });
    if (caPublicKey === deterministicEcKey(this.ev.clusterCaKeyResource).publicKeyPem) {
      this.fail("the cluster CA key is the fixed, name-derived mock key; the run must use fresh keys");
    }
    const workers = nodes.filter((n) => n.role === "worker").length;
    return {
      nodes,
      detail: `1 init, ${nodes.length - 1 - workers} control-plane join, ${workers} worker join; workers: no private key`,
    };
  }

  private negativeCases(programConf: string, pkiDir: string): string {
    const dir = path.join(this.scratch, "negative");
    mkdirSync(dir, { recursive: true });
    // 1. A client certificate for the same identity, signed by a CA of our own making, is refused.
    const salt = freshKeySalt();
    const caKey = deterministicEcKey("foreign-ca", salt);
    const clientKey = deterministicEcKey("foreign-admin", salt);
    const caPem = selfSignedCert({
      privateKeyPem: caKey.privateKeyPem,
      subject: { commonName: "kubernetes" },
      isCaCertificate: true,
      validityPeriodHours: 24,
      allowedUses: ["cert_signing", "digital_signature"],
    });
    const clientPem = locallySignedCert({
      certRequestPem: certRequest({
        privateKeyPem: clientKey.privateKeyPem,
        subject: { commonName: "kubernetes-admin", organization: "kubeadm:cluster-admins" },
      }),
      caCertPem: caPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      validityPeriodHours: 24,
      allowedUses: ["client_auth", "digital_signature"],
    });
    const config = parseYaml(readFileSync(programConf, "utf8")) as { users: { user: Record<string, string> }[] };
    config.users[0].user["client-certificate-data"] = Buffer.from(clientPem).toString("base64");
    config.users[0].user["client-key-data"] = Buffer.from(clientKey.privateKeyPem).toString("base64");
    const foreign = path.join(dir, "foreign-client.conf");
    writeFileSync(foreign, JSON.stringify(config), { mode: 0o600 });
    const refused = this.kubectl(foreign, ["get", "namespaces"]);
    if (refused.status === 0 || !/Unauthorized/.test(refused.stderr)) {
      throw failure(refused, "a client certificate from a foreign CA was not refused with Unauthorized");
    }
    // 2. The server certificate does not verify for an address it was not made for.
    const wrongName = "192.0.2.1";
    const mismatch = this.kubectl(programConf, ["get", "namespaces"], wrongName);
    if (mismatch.status === 0 || !/certificate is valid for .*not 192\.0\.2\.1/.test(mismatch.stderr)) {
      throw failure(mismatch, `the server certificate was accepted for ${wrongName}, an address it does not carry`);
    }
    // 3. The SAN check reports a certificate without the endpoint (etcd's server certificate).
    const problems = missingApiServerSans(readFileSync(path.join(pkiDir, "etcd/server.crt"), "utf8"), [
      { address: this.ev.floatingIp, why: "the API endpoint" },
    ]);
    if (problems.length !== 1) this.fail("the SAN check did not report a certificate without the endpoint");
    return `foreign-CA client: ${refused.stderr.trim().split("\n").pop()}; wrong name: refused; SAN check: reports`;
  }
}

function joinCredentials(node: Node): { token: string; caCertHash: string } {
  const file = node.files.get(`${BOOTSTRAP}/join.yaml`);
  if (!file) throw new Error(`${node.name} has no join.yaml`);
  const join = kubeadmDocuments(readFileSync(file, "utf8")).find((d) => d.kind === "JoinConfiguration") as
    | { discovery: { bootstrapToken: { token: string; caCertHashes: string[] } } }
    | undefined;
  if (!join) throw new Error(`${node.name}'s join.yaml has no JoinConfiguration`);
  return { token: join.discovery.bootstrapToken.token, caCertHash: join.discovery.bootstrapToken.caCertHashes[0] };
}
