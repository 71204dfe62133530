/**
 * etcd-membership.sh, exactly as a stack's control-plane node receives it, against a real etcd
 * cluster: three members with TLS and client-certificate auth (like kubeadm's stacked etcd), each on
 * its own loopback address, so every member has the address-shaped peer URL a node has. The join
 * itself is what kubeadm's etcd phase does: add the member, start it with an empty data dir.
 *
 *   A  a member dies; its replacement has the same name and address: the stale member is removed
 *      before the join, the replacement joins, the cluster is healthy with three members
 *   B  a new node replaces a healthy member: nothing is removed before the join (scale out first),
 *      the old member is removed after it, three members remain
 *   C  a healthy member already has the joining node's name: refused, nothing removed
 *   D  two of three members dead: refused with "lost quorum", nothing removed
 *
 * Every etcd started here is stopped by its pid, also on failure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import * as path from "node:path";
import { attemptTool, runTool } from "../lib/proc";

interface Member {
  readonly id: string;
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
}

const address = (i: number) => `127.0.0.${11 + i}`;
const readText = (file: string) => readFileSync(file, "utf8");

export class EtcdMembershipProof {
  private readonly etcds = new Map<string, ChildProcess>();
  private readonly pki: string;

  constructor(
    private readonly etcd: string,
    private readonly script: string,
    private readonly dir: string,
    private readonly clientPort: number,
    private readonly peerPort: number,
  ) {
    this.pki = path.join(dir, "pki");
  }

  private peerUrl = (i: number) => `https://${address(i)}:${this.peerPort}`;
  private clientUrl = (i: number) => `https://${address(i)}:${this.clientPort}`;

  private async openssl(args: string[]): Promise<void> {
    await runTool("openssl", args, { timeoutSeconds: 30 });
  }

  /** An ECDSA CA like the one Pulumi makes, and per member a server/peer certificate for its address. */
  private async certificates(members: number): Promise<void> {
    mkdirSync(this.pki, { recursive: true });
    await this.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path.join(this.pki, "ca.key")]);
    await this.openssl([
      ...["req", "-x509", "-new", "-key", path.join(this.pki, "ca.key"), "-subj", "/CN=etcd-ca", "-days", "1"],
      ...["-out", path.join(this.pki, "ca.crt")],
    ]);
    for (let i = 0; i < members; i++) {
      const d = path.join(this.dir, `member-${i}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(
        path.join(d, "ext"),
        `subjectAltName=IP:${address(i)},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`,
      );
      await this.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path.join(d, "server.key")]);
      await this.openssl([
        ...["req", "-new", "-key", path.join(d, "server.key"), "-subj", `/CN=member-${i}`],
        ...["-out", path.join(d, "server.csr")],
      ]);
      await this.openssl([
        ...["x509", "-req", "-in", path.join(d, "server.csr"), "-CA", path.join(this.pki, "ca.crt")],
        ...["-CAkey", path.join(this.pki, "ca.key"), "-CAcreateserial", "-days", "1"],
        ...["-extfile", path.join(d, "ext"), "-out", path.join(d, "server.crt")],
      ]);
    }
  }

  /** Starts member i (name cp-i) with kubeadm's etcd TLS flags. */
  private start(i: number, initialCluster: string, state: "new" | "existing"): void {
    const d = path.join(this.dir, `member-${i}`);
    const tls = (prefix: string) => [
      `--${prefix}cert-file=${path.join(d, "server.crt")}`,
      `--${prefix}key-file=${path.join(d, "server.key")}`,
      `--${prefix}trusted-ca-file=${path.join(this.pki, "ca.crt")}`,
      `--${prefix}client-cert-auth=true`,
    ];
    const log = openSync(path.join(d, `etcd-${state}.log`), "a");
    const child = spawn(
      this.etcd,
      [
        `--name=cp-${i}`,
        `--data-dir=${path.join(d, `data-${state}`)}`,
        `--listen-client-urls=${this.clientUrl(i)}`,
        `--advertise-client-urls=${this.clientUrl(i)}`,
        `--listen-peer-urls=${this.peerUrl(i)}`,
        `--initial-advertise-peer-urls=${this.peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${state}`,
        ...tls(""),
        ...tls("peer-"),
      ],
      { stdio: ["ignore", log, log] },
    );
    this.etcds.set(`cp-${i}`, child);
  }

  private async kill(name: string): Promise<void> {
    const child = this.etcds.get(name);
    this.etcds.delete(name);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops every etcd started here, by pid. */
  async stop(): Promise<void> {
    await Promise.all([...this.etcds.keys()].map((name) => this.kill(name)));
  }

  /** POST to etcd's JSON gateway on member i, authenticated with member 0's certificate. */
  private gateway(i: number, api: string, body: object): Promise<Record<string, unknown>> {
    const d = path.join(this.dir, "member-0");
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.clientUrl(i)}/v3/cluster/member/${api}`,
        {
          method: "POST",
          ca: readText(path.join(this.pki, "ca.crt")),
          cert: readText(path.join(d, "server.crt")),
          key: readText(path.join(d, "server.key")),
          timeout: 5000,
        },
        (res) => {
          let data = "";
          res.on("data", (c) => (data += c));
          res.on("end", () =>
            res.statusCode === 200
              ? resolve(JSON.parse(data) as Record<string, unknown>)
              : reject(new Error(`member/${api} on ${address(i)}: HTTP ${res.statusCode} ${data}`)),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error(`member/${api} on ${address(i)}: timed out`)));
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  }

  private async members(through: number): Promise<Member[]> {
    const reply = (await this.gateway(through, "list", {})) as {
      members?: { ID: string; name?: string; peerURLs?: string[]; clientURLs?: string[] }[];
    };
    return (reply.members ?? []).map((m) => ({
      id: m.ID,
      name: m.name ?? "",
      peerUrl: m.peerURLs?.[0] ?? "",
      clientUrl: m.clientURLs?.[0] ?? "",
    }));
  }

  private async until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last = "";
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s${last ? ` (${last})` : ""}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Every listed member started and answering /health through the gateway. */
  private healthy(through: number, expected: string[]): Promise<Member[]> {
    return this.until(`members ${expected.join(", ")} healthy`, 30, async () => {
      const members = await this.members(through);
      const names = members.map((m) => m.name).sort();
      return JSON.stringify(names) === JSON.stringify([...expected].sort()) ? members : undefined;
    });
  }

  /** kubeadm's etcd-join phase: add the member through a peer, start it on an empty data dir. */
  private async join(i: number, through: number): Promise<void> {
    await this.until(`member add cp-${i}`, 30, async () => {
      await this.gateway(through, "add", { peerURLs: [this.peerUrl(i)] });
      return true;
    });
    const cluster = (await this.members(through)).map((m) => `${m.name || `cp-${i}`}=${m.peerUrl}`).join(",");
    this.start(i, cluster, "existing");
  }

  private async runScript(
    node: number,
    phase: "before-join" | "after-join",
    peers: number[],
    replaces?: string,
  ): Promise<{ ok: boolean; stderr: string }> {
    const env = path.join(this.dir, `env-cp-${node}`);
    writeFileSync(
      env,
      `NODE_NAME="cp-${node}"\nNODE_ADDRESS="${address(node)}"\nCONTROL_PLANE_PEERS="${peers.map(address).join(" ")}"\n${replaces ? `REPLACES="${replaces}"\n` : ""}`,
    );
    const file = path.join(this.dir, "etcd-membership.sh");
    writeFileSync(file, this.script, { mode: 0o755 });
    const result = await attemptTool("bash", [file, phase], {
      env: {
        ...process.env,
        BOOTSTRAP_ENV: env,
        ETCD_PKI: this.pki,
        ETCD_CLIENT_PORT: String(this.clientPort),
        ETCD_PEER_PORT: String(this.peerPort),
        PROBE_PAUSE: "1",
      },
      timeoutSeconds: 120,
    });
    return { ok: result.status === 0, stderr: result.stderr };
  }

  async prove(): Promise<string> {
    const fail = (message: string): never => {
      throw new Error(message);
    };
    await this.certificates(4);
    const initial = [0, 1, 2].map((i) => `cp-${i}=${this.peerUrl(i)}`).join(",");
    for (const i of [0, 1, 2]) this.start(i, initial, "new");
    await this.healthy(0, ["cp-0", "cp-1", "cp-2"]);

    // A: cp-1 dies; a new machine with its name and address takes its place.
    await this.kill("cp-1");
    const a = await this.runScript(1, "before-join", [0, 2]);
    if (!a.ok) fail(`A: the script refused a dead member's replacement:\n${a.stderr}`);
    const afterA = await this.members(0);
    if (afterA.some((m) => m.name === "cp-1")) fail(`A: the dead cp-1 is still a member:\n${a.stderr}`);
    await this.join(1, 0);
    await this.healthy(0, ["cp-0", "cp-1", "cp-2"]);

    // B: cp-3 replaces cp-2, which is healthy: scale out first, then in.
    const b1 = await this.runScript(3, "before-join", [0, 1, 2], "cp-2");
    if (!b1.ok) fail(`B: before-join failed:\n${b1.stderr}`);
    if ((await this.members(0)).length !== 3) fail(`B: a member was removed before the join:\n${b1.stderr}`);
    await this.join(3, 0);
    await this.healthy(0, ["cp-0", "cp-1", "cp-2", "cp-3"]);
    const b2 = await this.runScript(3, "after-join", [0, 1, 2], "cp-2");
    if (!b2.ok) fail(`B: after-join failed:\n${b2.stderr}`);
    await this.healthy(0, ["cp-0", "cp-1", "cp-3"]);
    await this.kill("cp-2"); // Pulumi deletes the replaced machine at the end of the update

    // C: a healthy member already has the joining node's name.
    const c = await this.runScript(0, "before-join", [1]);
    if (c.ok || !/two machines claim cp-0/.test(c.stderr)) fail(`C: not refused:\n${c.stderr}`);

    // D: two of three members dead: no removal can commit, and none is attempted.
    await this.kill("cp-1");
    await this.kill("cp-3");
    const d = await this.runScript(1, "before-join", [0, 3]);
    if (d.ok || !/lost quorum/.test(d.stderr)) fail(`D: not refused for quorum:\n${d.stderr}`);
    if ((await this.members(0)).length !== 3) fail("D: a member was removed without quorum");
    return "dead member replaced (removed, rejoined); healthy member replaced after the join; duplicate name and lost quorum refused";
  }
}
