/**
 * The bootstrap proof of one stack, against the real kubeadm, etcd and kube-apiserver. Input: the
 * stack evaluated offline with fresh keys (evaluate.ts). Every step is timed; the first failure
 * throws with the failing tool's output; the API server started here is always stopped.
 */
import { createHash, randomBytes, verify } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { attemptTool as attempt, toolFailure as failure, runTool as run } from "../lib/proc";
import {
  discoveryHashIn,
  firstServiceIp,
  kubeadmDocuments,
  kubeconfigServer,
  missingApiServerSans,
  redirectKubeconfig,
  signedBy,
  withCertificatesDir,
} from "./checks";
import { EndpointNetns } from "./endpointNetns";
import { EtcdMembershipProof } from "./etcdMembership";
import type { EvaluatedStack } from "./evaluate";
import { checkAuditLog, checkEncryptionAtRest, checkFlags, checkPodSecurity, type HardeningRing } from "./hardening";
import {
  checkClusterInfoSigned,
  checkDiscovery,
  checkTlsBootstrap,
  type JoinRing,
  startControllerManager,
} from "./joinProof";
import { initFlagsOf, tokenExpiry, tokensIn, whoAmI, windowProblem } from "./joinWindow";
import { BOOTSTRAP, foreignClientKubeconfig, joinCredentials, layOutNodes, type Node, PKI, SHARED_PKI } from "./nodes";
import { acceptedByDryRun, crdFiles, forcedApply } from "./objects";

/** The upstream charts' data beside the checkout (its CRDs; see ../shared/charts/README.md). */
/** The repository (for the bootstrap scripts the nodes run). */
const ROOT = path.resolve(__dirname, "..", "..");
const CHARTS = path.resolve(__dirname, "..", "..", "..", "shared", "charts");

export interface Tools {
  /** Directory with kubeadm, kube-apiserver and etcd of the pinned version (toolchain.sh). */
  readonly binDir: string;
  readonly apiserverSh: string;
  readonly kubectl: string;
  /**
   * Two free ports (client, peer) for the etcd membership proof, which runs for the one stack that
   * gets them (the script is the same on every stack; its members listen on their own addresses).
   */
  readonly etcdPorts?: readonly [number, number];
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

  /** Runs one timed step; `work` returns what the step proved, for the log and the timings. */
  private async step(name: string, work: () => Promise<string>): Promise<void> {
    const started = process.hrtime.bigint();
    let detail: string;
    try {
      detail = await work();
    } catch (error) {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      this.steps.push({ step: name, ms, detail: "FAILED" });
      this.log(`${name.padEnd(32)} FAILED after ${(ms / 1000).toFixed(1)} s`);
      throw new Error(`step "${name}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({ step: name, ms, detail });
    this.log(`${name.padEnd(32)} ok ${(ms / 1000).toFixed(1).padStart(5)} s  ${detail}`);
  }

  private fail(message: string): never {
    throw new Error(message);
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.tools.binDir}:${process.env.PATH ?? ""}` };
  }

  private kubeadm(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutSeconds = 60) {
    return run(path.join(this.tools.binDir, "kubeadm"), args, { env: { ...this.env, ...extraEnv }, timeoutSeconds });
  }

  /** kubectl against the loopback server, verifying its certificate for the endpoint address. */
  private kubectl(kubeconfig: string, args: string[], tlsServerName = this.ev.floatingIp, input?: string) {
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
      { env: this.env, timeoutSeconds: 40, ...(input !== undefined ? { input } : {}) },
    );
  }

  async run(): Promise<StackReport> {
    const started = process.hrtime.bigint();
    const totalMs = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({
      step: "evaluate (offline, fresh keys)",
      ms: this.ev.evaluationMs,
      detail: `${this.ev.nodes.length} nodes`,
    });
    mkdirSync(this.scratch, { recursive: true });
    try {
      await this.prove();
      return { stack: this.ev.stack, steps: this.steps, ok: true, totalMs: totalMs(), scratch: this.scratch };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        stack: this.ev.stack,
        steps: this.steps,
        ok: false,
        totalMs: totalMs(),
        error: message,
        scratch: this.scratch,
      };
    } finally {
      await this.stopServer();
    }
  }

  private stopping?: Promise<void>;
  private membership?: EtcdMembershipProof;
  private netns?: EndpointNetns;

  /** Stops etcd and kube-apiserver by their pids (apiserver.sh stop); once, however often it is called. */
  stopServer(): Promise<void> {
    const membership = Promise.all([this.membership?.stop(), this.netns?.stop()]);
    if (!this.serverStarted) return Promise.all([this.stopping, membership]).then(() => undefined);
    this.serverStarted = false;
    this.stopping = this.stop();
    return Promise.all([this.stopping, membership]).then(() => undefined);
  }

  private async stop(): Promise<void> {
    const started = process.hrtime.bigint();
    const result = await attempt(this.tools.apiserverSh, ["stop", this.state], {
      timeoutSeconds: 60,
      evenWhenStopping: true,
    });
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    this.steps.push({
      step: "apiserver.sh stop",
      ms,
      detail: result.status === 0 ? "etcd, kube-apiserver stopped" : "FAILED",
    });
    if (result.status !== 0) this.log(`apiserver.sh stop FAILED:\n${result.stderr}`);
    else
      this.log(
        `${"apiserver.sh stop".padEnd(32)} ok ${(ms / 1000).toFixed(1).padStart(5)} s  by pid (state ${this.state})`,
      );
  }

  private async prove(): Promise<void> {
    const ev = this.ev;
    let nodes: Node[] = [];
    await this.step("user data laid out", async () => {
      const laidOut = layOutNodes(this.ev, path.join(this.scratch, "nodes"));
      nodes = laidOut.nodes;
      return laidOut.detail;
    });
    const init = nodes.find((n) => n.role === "init") ?? this.fail("no node initializes the cluster");
    const initYaml = init.files.get(`${BOOTSTRAP}/init.yaml`) ?? this.fail(`${init.name} has no init.yaml`);

    await this.step("kubeadm config validate", async () => {
      let count = 0;
      for (const node of nodes) {
        for (const doc of ["init.yaml", "join.yaml"]) {
          const file = node.files.get(`${BOOTSTRAP}/${doc}`);
          if (!file) continue;
          const result = await this.kubeadm(["config", "validate", "--config", file]);
          const warnings = `${result.stdout}${result.stderr}`.split("\n").filter((l) => /warn|deprecat/i.test(l));
          if (warnings.length)
            throw failure(result, `kubeadm accepted ${node.name}/${doc} with warnings:\n${warnings.join("\n")}`);
          count++;
        }
      }
      return `${count} documents accepted`;
    });

    // --- kubeadm's certificate phase on the first control-plane node's files ---
    const pkiDir = path.join(init.root, PKI);
    const scratchInit = path.join(this.scratch, "init-scratch.yaml");
    writeFileSync(scratchInit, withCertificatesDir(readFileSync(initYaml, "utf8"), pkiDir), { mode: 0o600 });
    const digest = (file: string) =>
      createHash("sha256")
        .update(readFileSync(path.join(pkiDir, file)))
        .digest("hex");
    await this.step("kubeadm init phase certs", async () => {
      const before = new Map(SHARED_PKI.map((f) => [f, digest(f)]));
      const result = await this.kubeadm(["init", "phase", "certs", "all", "--config", scratchInit]);
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
    await this.step("kubeadm init phase kubeconfig", async () => {
      for (const which of ["admin", "super-admin"]) {
        await this.kubeadm([
          "init",
          "phase",
          "kubeconfig",
          which,
          "--config",
          scratchInit,
          "--kubeconfig-dir",
          kubeconfigDir,
        ]);
      }
      return "admin.conf, super-admin.conf";
    });

    const manifests = path.join(this.scratch, "manifests");
    mkdirSync(manifests, { recursive: true });
    const etcKubernetesExisted = existsSync("/etc/kubernetes");
    await this.step("kubeadm control-plane manifest", async () => {
      // --dry-run writes the static pod manifest into KUBEADM_INIT_DRYRUN_DIR instead of /etc/kubernetes.
      await this.kubeadm(["init", "phase", "control-plane", "apiserver", "--config", initYaml, "--dry-run"], {
        KUBEADM_INIT_DRYRUN_DIR: manifests,
      });
      if (!etcKubernetesExisted && existsSync("/etc/kubernetes"))
        this.fail("kubeadm wrote /etc/kubernetes on this host");
      return "kube-apiserver.yaml rendered from init.yaml";
    });

    await this.step("apiserver.sh start", async () => {
      this.serverStarted = true;
      await run(this.tools.apiserverSh, ["start", pkiDir, this.state, path.join(manifests, "kube-apiserver.yaml")], {
        env: {
          ...this.env,
          E2E_KUBERNETES_BIN_DIR: this.tools.binDir,
          APISERVER_PORT: String(this.port),
          APISERVER_TLS_SERVER_NAME: ev.floatingIp,
          // The audit policy, encryption and admission files the node's user data wrote (R7).
          APISERVER_HOST_ROOT: init.root,
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
    await this.step("program kubeconfig: namespaces", async () => {
      if (!ev.kubeconfigIsSecret) this.fail("the kubeconfig stack output is not a secret");
      if (ev.apiEndpointOutput !== `https://${ev.floatingIp}:6443`) {
        this.fail(`the apiEndpoint output ${ev.apiEndpointOutput} is not the floating IP ${ev.floatingIp}`);
      }
      const server = kubeconfigServer(ev.kubeconfig);
      if (server !== `https://${ev.floatingIp}:6443`)
        this.fail(`the program's kubeconfig targets ${server}, not the floating IP`);
      const before = await this.kubectl(programConf, ["get", "namespaces", "-o", "name"]);
      if (before.status === 0 || !/forbidden/i.test(before.stderr)) {
        throw failure(
          before,
          "expected Forbidden before kubeadm:cluster-admins is bound (as before kubeadm init binds it)",
        );
      }
      // What kubeadm init does once the API answers, with super-admin.conf (group system:masters).
      const bind = await this.kubectl(superAdmin, [
        "create",
        "clusterrolebinding",
        "kubeadm:cluster-admins",
        "--clusterrole=cluster-admin",
        "--group=kubeadm:cluster-admins",
      ]);
      if (bind.status !== 0) throw failure(bind, "could not create the kubeadm:cluster-admins binding");
      const after = await this.kubectl(programConf, ["get", "namespaces", "-o", "name"]);
      if (after.status !== 0) throw failure(after, "the program's admin kubeconfig cannot list namespaces");
      for (const ns of ["default", "kube-system", "kube-public"]) {
        if (!after.stdout.includes(`namespace/${ns}`)) throw failure(after, `namespace ${ns} missing`);
      }
      return `${after.stdout.trim().split("\n").length} namespaces, TLS verified for ${ev.floatingIp}`;
    });

    await this.step("CRDs of ../shared/charts", async () => {
      const files = crdFiles(CHARTS);
      for (const file of files) {
        const applied = await this.kubectl(programConf, ["apply", "--server-side", "--force-conflicts", "-f", file]);
        if (applied.status !== 0) throw failure(applied, `the API server refused the CRDs of ${file}`);
      }
      const established = await this.kubectl(programConf, [
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=60s",
      ]);
      if (established.status !== 0) throw failure(established, "CRDs did not become Established");
      return `${established.stdout.trim().split("\n").length} CRDs established (Istio base, Gateway API, Calico)`;
    });

    await this.step("program objects: dry run", async () => {
      // What the program creates outside charts, validated by the real API server against the real
      // CRDs and built-in schemas: server-side apply, dry run, strict field validation (unknown or
      // duplicate fields fail). Namespaces are created for real first, as the graph orders them.
      const dir = path.join(this.scratch, "objects");
      mkdirSync(dir, { recursive: true });
      const namespaces = path.join(dir, "namespaces.yaml");
      writeFileSync(
        namespaces,
        ev.namespaces
          .map((name) => stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }))
          .join("---\n"),
      );
      if (ev.namespaces.length > 0) {
        const created = await this.kubectl(programConf, ["apply", "--server-side", "-f", namespaces]);
        if (created.status !== 0) throw failure(created, "could not create the program's namespaces");
      }
      const objects = ev.objects.filter((o) => o.kind !== "Namespace");
      if (objects.length === 0) this.fail("the offline run has no Kubernetes objects outside charts");
      // Two applies, as the provider sends them: plain, and with force where it forces (patchForce).
      for (const [name, group, force] of [
        ["objects.yaml", objects.filter((o) => !forcedApply(o)), []],
        ["forced.yaml", objects.filter(forcedApply), ["--force-conflicts"]],
      ] as const) {
        if (group.length === 0) continue;
        const file = path.join(dir, name);
        writeFileSync(file, group.map((o) => stringify(o)).join("---\n"), { mode: 0o600 });
        const result = await this.kubectl(programConf, [
          "apply",
          "--server-side",
          ...force,
          "--dry-run=server",
          "--validate=strict",
          "--field-manager=pulumi-kubernetes",
          "-f",
          file,
        ]);
        if (result.status !== 0) throw failure(result, "the API server refused objects the program creates");
        const accepted = acceptedByDryRun(result.stdout);
        if (accepted !== group.length)
          throw failure(result, `the API server accepted ${accepted} of ${group.length} objects (${name})`);
      }
      // Not a rubber stamp: the same kind of object with a field its CRD does not define is refused.
      const probe = objects.find((o) => o.apiVersion.includes(".istio.io/"));
      if (!probe) this.fail("no Istio custom resource among the program's objects");
      const misspelt = path.join(dir, "misspelt.yaml");
      writeFileSync(misspelt, stringify({ ...probe, spec: { ...(probe.spec as object), notAField: true } }));
      const refused = await this.kubectl(programConf, [
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "-f",
        misspelt,
      ]);
      if (refused.status === 0 || !/spec\.notAField/.test(refused.stderr))
        throw failure(refused, `a ${probe.kind} with an unknown field was not refused by strict validation`);
      const kinds = [...new Set(objects.map((o) => o.kind))].sort().join(", ");
      return `${objects.length} objects accepted (${kinds}); ${ev.namespaces.length} namespaces created`;
    });

    await this.step("service-account token (sa.key)", async () => {
      // The API server signs tokens with the service-account key Pulumi generated; sa.pub from the
      // plan must verify them (kube-controller-manager and every API server rely on the pair).
      // (No controller-manager runs here, so no `default` service account: make one.)
      const account = await this.kubectl(programConf, ["create", "serviceaccount", "e2e-probe", "-n", "default"]);
      if (account.status !== 0) throw failure(account, "could not create a service account");
      const issued = await this.kubectl(programConf, ["create", "token", "e2e-probe", "-n", "default"]);
      if (issued.status !== 0) throw failure(issued, "the API server did not issue a service-account token");
      const [header, payload, signature] = issued.stdout.trim().split(".");
      const alg = (JSON.parse(Buffer.from(header, "base64url").toString()) as { alg: string }).alg;
      const saPub = readFileSync(path.join(pkiDir, "sa.pub"), "utf8");
      const valid = verify(
        "sha256",
        Buffer.from(`${header}.${payload}`),
        { key: saPub, dsaEncoding: "ieee-p1363" },
        Buffer.from(signature, "base64url"),
      );
      if (alg !== "ES256" || !valid)
        this.fail(`a ${alg} token that ${valid ? "verifies" : "does not verify"} with our sa.pub`);
      return "ES256 token issued by the API server verifies with the plan's sa.pub";
    });

    // --- the control plane's hardening, on the real API server ---
    const ring: HardeningRing = {
      kubectl: (kubeconfig, args, input) => this.kubectl(kubeconfig, args, this.ev.floatingIp, input),
      tool: (command, args) => run(command, args, { env: this.env, timeoutSeconds: 30 }),
      adminConf: programConf,
      state: this.state,
      nodeRoot: init.root,
      pkiDir,
    };
    const probeValue = randomBytes(16).toString("hex");
    await this.step("hardening: CIS flags", async () => checkFlags(this.state));
    await this.step("Secrets encrypted in etcd", () => checkEncryptionAtRest(ring, probeValue));
    await this.step("audit log without values", async () => checkAuditLog(ring, probeValue));
    await this.step("Pod Security Admission", () => checkPodSecurity(ring, "e2e-probe"));

    await this.step("readiness gate (readyz-wait.sh)", async () => {
      const gate = ev.readinessGate;
      if (gate.environment.API_ENDPOINT !== ev.floatingIp)
        this.fail(`the gate waits for ${gate.environment.API_ENDPOINT}, not the endpoint`);
      const [interpreter, ...interpreterArgs] = gate.interpreter;
      const result = await run(interpreter, [...interpreterArgs, gate.create], {
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

    // --- the join: what a node meets when it joins, with kube-controller-manager running ---
    const joinRing: JoinRing = {
      kubeadm: (args, extraEnv = {}) => this.kubeadm(args, extraEnv),
      tool: (command, args, extraEnv = {}) =>
        run(command, args, { env: { ...this.env, ...extraEnv }, timeoutSeconds: 120 }),
      kubectl: (kubeconfig, args, input) => this.kubectl(kubeconfig, args, this.ev.floatingIp, input),
      apiserverSh: this.tools.apiserverSh,
      state: this.state,
      pkiDir,
      scratch: this.scratch,
      port: this.port,
      endpointAddress: ev.floatingIp,
      env: this.env,
    };
    await this.step("kube-controller-manager start", () =>
      startControllerManager(joinRing, initYaml, scratchInit, init.address),
    );
    this.netns = new EndpointNetns(ev.floatingIp, this.port);
    await this.netns.start();
    const token = joinCredentials(nodes[0]).token;

    await this.step("join: bootstrap token, hash", async () => {
      const local = path.join(kubeconfigDir, "super-admin-loopback.conf");
      writeFileSync(
        local,
        redirectKubeconfig(readFileSync(superAdmin, "utf8"), `https://127.0.0.1:${this.port}`, ev.floatingIp),
        { mode: 0o600 },
      );
      // As kubeadm init: create the InitConfiguration's token, its RBAC and the cluster-info ConfigMap,
      // with the kubeconfig as it is on the node (its server is the endpoint, which cluster-info carries).
      const netns = this.netns ?? this.fail("no network namespace");
      const phase = await netns.run(
        path.join(this.tools.binDir, "kubeadm"),
        ["init", "phase", "bootstrap-token", "--config", initYaml, "--kubeconfig", superAdmin],
        this.env,
      );
      if (phase.status !== 0) throw failure(phase, "kubeadm's bootstrap-token phase failed");
      const tokens = await this.kubeadm(["token", "list", "--kubeconfig", local]);
      const tokenId = joinCredentials(nodes[0]).token.split(".")[0];
      const problem = windowProblem(tokenExpiry(tokens.stdout, tokenId), ev.joinTokenTtlMinutes);
      if (problem) throw failure(tokens, `kubeadm init's registration of the join token ${tokenId}: ${problem}`);
      const join = await this.kubeadm(["token", "create", "--print-join-command", "--kubeconfig", local]);
      const kubeadmHash = discoveryHashIn(join.stdout) ?? this.fail(`no discovery hash in: ${join.stdout}`);
      for (const node of nodes) {
        const { caCertHash } = joinCredentials(node);
        if (caCertHash !== kubeadmHash) this.fail(`${node.name} pins ${caCertHash}, kubeadm computes ${kubeadmHash}`);
      }
      return `our token listed, expiring after the ${ev.joinTokenTtlMinutes} min window; kubeadm's hash ${kubeadmHash.slice(0, 19)}… = every node's pin`;
    });

    await this.step("join window: mint, revoke", async () => {
      const local = path.join(kubeconfigDir, "super-admin-loopback.conf");
      const window = ev.joinWindow;
      const token = joinCredentials(nodes[0]).token;
      const [tokenId, tokenSecret] = token.split(".");
      const [interpreter, ...interpreterArgs] = window.interpreter;
      const script = (which: "create" | "delete") =>
        run(interpreter, [...interpreterArgs, window[which]], {
          env: { ...process.env, ...window.environment, API_CONNECT_TO: `127.0.0.1:${this.port}` },
          timeoutSeconds: 60,
        });
      const url = `https://${ev.floatingIp}:6443`;
      const curl = (args: string[]) =>
        attempt(
          "curl",
          [
            "--cacert",
            path.join(pkiDir, "ca.crt"),
            "--connect-to",
            `${ev.floatingIp}:6443:127.0.0.1:${this.port}`,
            ...args,
          ],
          { timeoutSeconds: 20 },
        );
      const listed = async () =>
        tokenExpiry((await this.kubeadm(["token", "list", "--kubeconfig", local])).stdout, tokenId);
      // The delete first: the window kubeadm init opened closes, and the token is unknown.
      const revoked = await script("delete");
      if (await listed()) this.fail(`the join window's revoke left token ${tokenId} in the cluster`);
      const minted = await script("create");
      for (const output of [minted, revoked]) {
        if (`${output.stdout}${output.stderr}`.includes(tokenSecret))
          this.fail("the join-token script printed the token");
      }
      const problem = windowProblem(await listed(), ev.joinTokenTtlMinutes);
      if (problem) this.fail(`after the mint: ${problem}`);
      const who = await whoAmI(curl, url, token);
      if (who !== `system:bootstrap:${tokenId}`) this.fail(`the minted token authenticates as ${who}`);
      // A second mint (a node re-created under a name the token covers) replaces the Secret.
      await script("create");
      if (windowProblem(await listed(), ev.joinTokenTtlMinutes)) this.fail("a second mint did not renew the window");
      return `revoke removes token ${tokenId}; mint opens ${ev.joinTokenTtlMinutes} min in which it authenticates as ${who}; no token in the script's output`;
    });

    await this.step("kubeadm init prints no token", async () => {
      const script = readFileSync(path.join(ROOT, "components/cluster/bootstrap/scripts/kubeadm-bootstrap.sh"), "utf8");
      const flags = initFlagsOf(script);
      const dryRun = async (extra: string[]) => {
        const dir = path.join(this.scratch, `init-dry-run${extra.length}`);
        mkdirSync(dir, { recursive: true });
        const result = await this.kubeadm(
          ["init", "--config", scratchInit, "--dry-run", "--ignore-preflight-errors=all", ...extra],
          { KUBEADM_INIT_DRYRUN_DIR: dir },
          120,
        );
        return `${result.stdout}${result.stderr}`;
      };
      const printed = tokensIn(await dryRun(flags));
      if (printed.length)
        this.fail(`kubeadm init ${flags.join(" ")} prints a bootstrap token (${printed[0].slice(0, 7)}…)`);
      // The check can fail: without the flag kubeadm prints the token it registered.
      const without = tokensIn(await dryRun(flags.filter((f) => f !== "--skip-token-print")));
      if (flags.includes("--skip-token-print") && without.length === 0)
        this.fail("kubeadm init without --skip-token-print printed no token: the check proves nothing");
      if (!etcKubernetesExisted && existsSync("/etc/kubernetes"))
        this.fail("kubeadm wrote /etc/kubernetes on this host");
      return `kubeadm init ${flags.join(" ")} (dry run): no token in ${"its output"}; without the flag it prints ${without.length}`;
    });

    await this.step("kubeadm upload-config", async () => {
      // As kubeadm init: the ClusterConfiguration and the cluster-wide kubelet configuration that
      // every joining node downloads (its join.yaml carries none).
      const local = path.join(kubeconfigDir, "super-admin-loopback.conf");
      for (const what of ["kubeadm", "kubelet"]) {
        await this.kubeadm(["init", "phase", "upload-config", what, "--config", initYaml, "--kubeconfig", local]);
      }
      const configMap = await this.kubectl(superAdmin, [
        "get",
        "configmap",
        "kubelet-config",
        "-n",
        "kube-system",
        "-o",
        "jsonpath={.data.kubelet}",
      ]);
      if (configMap.status !== 0) throw failure(configMap, "no kubelet-config ConfigMap");
      const served = parseYaml(configMap.stdout) as Record<string, unknown>;
      const ours = kubeadmDocuments(readFileSync(initYaml, "utf8")).find((d) => d.kind === "KubeletConfiguration");
      if (!ours) this.fail("init.yaml has no KubeletConfiguration");
      const differing = Object.keys(ours).filter(
        (key) => !["apiVersion", "kind"].includes(key) && JSON.stringify(served[key]) !== JSON.stringify(ours[key]),
      );
      if (differing.length)
        throw failure(configMap, `kubelet-config differs from init.yaml in ${differing.join(", ")}`);
      return `kubelet-config for joining nodes carries ${Object.keys(ours)
        .filter((k) => !["apiVersion", "kind"].includes(k))
        .join(", ")}`;
    });

    await this.step("join: cluster-info signed", () => checkClusterInfoSigned(joinRing, superAdmin, token));
    const worker = nodes.find((n) => n.role === "worker") ?? nodes[nodes.length - 1];
    await this.step("join: kubeadm discovery", () =>
      checkDiscovery(
        joinRing,
        this.netns ?? this.fail("no network namespace"),
        worker.files.get(`${BOOTSTRAP}/join.yaml`) ?? this.fail(`${worker.name} has no join.yaml`),
        path.join(this.tools.binDir, "kubeadm"),
      ),
    );
    await this.step("join: TLS bootstrap CSR", () => checkTlsBootstrap(joinRing, superAdmin, token, worker.name));

    await this.step("negative cases", () => this.negativeCases(programConf, pkiDir));

    await this.step("certificate renewal (timer's script)", async () => {
      // The script the node's timer runs, as its user data wrote it, on this node's PKI.
      const script = init.files.get("/usr/local/sbin/kubeadm-certs-renew.sh") ?? this.fail("no renewal script");
      const manifestDir = path.join(this.scratch, "renewal-manifests");
      mkdirSync(manifestDir, { recursive: true });
      writeFileSync(
        path.join(manifestDir, "kube-apiserver.yaml"),
        readFileSync(path.join(manifests, "kube-apiserver.yaml")),
      );
      const renew = (days: number) =>
        run("bash", [script], {
          env: {
            ...this.env,
            PKI_DIR: pkiDir,
            MANIFEST_DIR: manifestDir,
            KUBEADM_CONFIG: scratchInit,
            RENEW_BEFORE_DAYS: String(days),
            RESTART_WAIT_SECONDS: "0",
          },
          timeoutSeconds: 120,
        });
      const apiserverCert = () => readFileSync(path.join(pkiDir, "apiserver.crt"), "utf8");
      const shared = new Map(SHARED_PKI.map((f) => [f, digest(f)]));
      const before = apiserverCert();
      const early = await renew(30);
      if (apiserverCert() !== before || !/nothing to do/.test(early.stderr)) {
        throw failure(early, "a certificate with a year left was renewed");
      }
      const due = await renew(400); // every certificate is "due" within 400 days
      const after = apiserverCert();
      if (after === before) throw failure(due, "apiserver.crt was not renewed");
      if (!signedBy(after, readFileSync(path.join(pkiDir, "ca.crt"), "utf8")))
        this.fail("the renewed apiserver.crt is not signed by our CA");
      const changedShared = SHARED_PKI.filter((f) => digest(f) !== shared.get(f));
      if (changedShared.length) this.fail(`renewal replaced Pulumi's key material: ${changedShared.join(", ")}`);
      if (!existsSync(path.join(manifestDir, "kube-apiserver.yaml")))
        this.fail("the static pod manifest was not put back");
      return "nothing renewed with a year left; with the threshold past it, apiserver.crt renewed by our CA, CAs kept, manifest back";
    });

    const joining = nodes.find((n) => n.role === "control-plane");
    const etcdPorts = this.tools.etcdPorts;
    if (joining && etcdPorts) {
      await this.step("etcd membership (3 real members)", async () => {
        const script = joining.files.get("/usr/local/sbin/etcd-membership.sh");
        if (!script) this.fail(`${joining.name} has no etcd-membership.sh`);
        this.membership = new EtcdMembershipProof(
          path.join(this.tools.binDir, "etcd"),
          readFileSync(script, "utf8"),
          path.join(this.scratch, "etcd-membership"),
          ...etcdPorts,
        );
        try {
          return await this.membership.prove();
        } finally {
          await this.membership.stop();
        }
      });
    }
  }

  private async negativeCases(programConf: string, pkiDir: string): Promise<string> {
    const dir = path.join(this.scratch, "negative");
    mkdirSync(dir, { recursive: true });
    // 1. A client certificate for the same identity, signed by a CA of our own making, is refused.
    const foreignConfig = foreignClientKubeconfig(readFileSync(programConf, "utf8"));
    const foreign = path.join(dir, "foreign-client.conf");
    writeFileSync(foreign, foreignConfig, { mode: 0o600 });
    const refused = await this.kubectl(foreign, ["get", "namespaces"]);
    if (refused.status === 0 || !/Unauthorized/.test(refused.stderr)) {
      throw failure(refused, "a client certificate from a foreign CA was not refused with Unauthorized");
    }
    // 2. The server certificate does not verify for an address it was not made for.
    const wrongName = "192.0.2.1";
    const mismatch = await this.kubectl(programConf, ["get", "namespaces"], wrongName);
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
