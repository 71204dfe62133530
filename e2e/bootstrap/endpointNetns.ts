/**
 * Runs a tool where the cluster's API endpoint exists: in a network namespace of its own whose
 * loopback carries the endpoint address (the plan's floating IP), with <address>:6443 forwarded to
 * the ring's kube-apiserver on 127.0.0.1 (through a unix socket, which crosses namespaces). A tool
 * run there (kubeadm's discovery, its bootstrap-token phase) uses the program's files byte for byte:
 * it dials the endpoint the program wrote and verifies the server certificate for it, exactly as on
 * a node. The bytes reach the real API server unchanged; TLS is end to end.
 *
 * Needs `unshare` and `ip` (util-linux, iproute2) and either root or unprivileged user namespaces.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { attemptTool, type RunResult } from "../lib/proc";

/** The namespace side: listens on <address>:<port>, forwards each connection to the unix socket, runs the tool. */
const FORWARDER = `
import os, socket, subprocess, sys, threading
address, port, sock_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
command = sys.argv[sys.argv.index("--") + 1:]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((address, port))
listener.listen(64)
def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
def serve():
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(sock_path)
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
sys.exit(subprocess.call(command))
`;

export class EndpointNetns {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly dir: string;

  constructor(
    private readonly endpointAddress: string,
    private readonly apiserverPort: number,
  ) {
    // Short: a unix socket path is limited to 108 bytes.
    this.dir = mkdtempSync(path.join(tmpdir(), "ep-"));
  }

  private get socketPath(): string {
    return path.join(this.dir, "api.sock");
  }

  async start(): Promise<void> {
    writeFileSync(path.join(this.dir, "forward.py"), FORWARDER);
    this.server = createServer((client) => {
      const upstream = connect(this.apiserverPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, resolve);
    });
  }

  /** Runs `command args` inside the namespace; resolves with its result, failed or not. */
  run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutSeconds = 120): Promise<RunResult> {
    const setup = [
      "set -e",
      "ip link set lo up",
      `ip addr add ${this.endpointAddress}/32 dev lo`,
      `exec python3 ${path.join(this.dir, "forward.py")} ${this.endpointAddress} 6443 ${this.socketPath} -- "$@"`,
    ].join("\n");
    const unshare = process.getuid?.() === 0 ? ["-n"] : ["-r", "-n"];
    return attemptTool("unshare", [...unshare, "--", "sh", "-c", setup, "netns", command, ...args], {
      env,
      timeoutSeconds,
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((r) => server.close(r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
