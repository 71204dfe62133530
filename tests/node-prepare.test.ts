/**
 * node-prepare.sh as a node runs it, by bash, on a sandboxed /etc laid out from the user data the
 * program renders (renderUserData: bootstrap.env and every file cloud-init writes), with test doubles
 * for what only a node has: apt-get, apt-mark, curl, containerd, systemctl, modprobe and friends
 * record their calls (and apt-get/curl the proxy they were given). What is asserted is what the node
 * is told to install and from where. (The real containerd merge of the drop-in is in
 * tests/containerd-config.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type NodeUserDataInput, renderUserData } from "../components/cluster/bootstrap/cloudInit";
import { nodeSoftware } from "../components/platform/nodeSoftware";
import { nodePackages } from "../lib/versions";

const sandboxes: string[] = [];
/** Appended by the apt-get and curl doubles: the proxy their environment carries (bash expands it). */
const PROXY_SEEN = " [proxy=$" + "{http_proxy:-}]";
afterAll(() => {
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
});

interface WrittenFile {
  readonly path: string;
  readonly content: string;
}

interface Prepared {
  readonly status: number | null;
  readonly stderr: string;
  /** "<command> <args>" per call, in order; apt-get and curl add " [proxy=<http_proxy>]". */
  readonly calls: string[];
  /** A file under the sandboxed root, by its path on the node (sandbox paths in it read as the node's). */
  read(nodePath: string): string;
}

/** Renders a node's user data and runs its node-prepare.sh in a sandbox. */
function prepare(
  input: Omit<NodeUserDataInput, "hostname">,
  options: { failing?: readonly string[]; containerdIgnoresDropIns?: boolean } = {},
): Prepared {
  const failing = options.failing ?? [];
  const root = mkdtempSync(path.join(tmpdir(), "node-prepare-"));
  sandboxes.push(root);
  const files = (parseYaml(renderUserData({ hostname: "n", ...input })) as { write_files: WrittenFile[] }).write_files;
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file.path)), { recursive: true });
    writeFileSync(path.join(root, file.path), file.content);
  }
  for (const dir of ["etc/modules-load.d", "etc/sysctl.d", "etc/apt/sources.list.d", "etc/apt/preferences.d"])
    mkdirSync(path.join(root, dir), { recursive: true });
  mkdirSync(path.join(root, "etc/containerd"), { recursive: true });
  writeFileSync(path.join(root, "etc/fstab"), "/swap.img none swap sw 0 0\n");
  writeFileSync(path.join(root, "etc/os-release"), 'ID=ubuntu\nVERSION_CODENAME=noble\nVERSION_ID="24.04"\n');
  const bin = path.join(root, "bin");
  mkdirSync(bin);
  const calls = path.join(root, "calls");
  writeFileSync(calls, "");
  const double = (name: string, body = "") =>
    writeFileSync(
      path.join(bin, name),
      `#!/bin/bash\necho "${name} $*${name === "apt-get" || name === "curl" ? PROXY_SEEN : ""}" >> "${calls}"\n${failing.includes(name) ? "exit 1\n" : ""}${body}`,
      { mode: 0o755 },
    );
  for (const name of ["modprobe", "sysctl", "swapoff", "update-ca-certificates", "apt-get", "apt-mark", "systemctl"])
    double(name);
  double("sleep");
  // curl -fsSL <url> -o <file>: the file gets a key.
  double(
    "curl",
    'while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "key from the repository" > "$2"; fi; shift; done\n',
  );
  // `containerd config default` prints a main file; `config dump` shows the drop-ins merged (here: appended).
  double(
    "containerd",
    `if [ "$2" = default ]; then echo "imports = ['/etc/containerd/conf.d/*.toml']"; echo "SystemdCgroup = false"; else cat "${root}/etc/containerd/config.toml"${options.containerdIgnoresDropIns ? "" : ` "${root}"/etc/containerd/conf.d/*.toml`}; fi\n`,
  );
  const script = files.find((f) => f.path === "/usr/local/sbin/node-prepare.sh")?.content ?? "";
  const result = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    // stdin not a socket: bash would read ~/.bashrc as for a remote shell.
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: `${bin}:${process.env.PATH}`, ETC_DIR: path.join(root, "etc") },
  });
  return {
    status: result.status,
    stderr: result.stderr,
    calls: readFileSync(calls, "utf8").replaceAll(root, "").trim().split("\n").filter(Boolean),
    // Paths the script wrote under the sandbox read as the node's own.
    read: (nodePath) => readFileSync(path.join(root, nodePath), "utf8").replaceAll(root, ""),
  };
}

const KUBERNETES = "1.36.3";
const upstream = { kubernetesVersion: KUBERNETES, software: nodeSoftware({ kubernetesVersion: KUBERNETES }) };
const containerdPin = `${nodePackages.containerd.version}-${nodePackages.containerd.debianRevision}`;

describe("node-prepare.sh with the upstream repositories", () => {
  let node: Prepared;
  beforeAll(() => {
    node = prepare(upstream);
  });

  it("succeeds", () => {
    expect({ status: node.status, stderr: node.stderr }).toEqual({
      status: 0,
      stderr: expect.stringContaining("node prepared"),
    });
  });

  it("installs containerd 2.x from Docker's containerd.io repository, pinned for the node's distribution, never the distribution's own 1.x", () => {
    expect(nodePackages.containerd.version).toMatch(/^2\./);
    expect(node.read("/etc/apt/sources.list.d/containerd.list")).toBe(
      "deb [signed-by=/etc/apt/keyrings/containerd.asc] https://download.docker.com/linux/ubuntu noble stable\n",
    );
    expect(node.read("/etc/apt/preferences.d/containerd.pref")).toBe(
      `Package: containerd.io\nPin: version ${containerdPin}~*\nPin-Priority: 1001\n`,
    );
    const installs = node.calls.filter((call) => call.startsWith("apt-get install"));
    expect(installs.some((call) => / containerd( |$)/.test(call))).toBe(false);
    expect(installs.at(-1)).toBe(
      `apt-get install -y -q --allow-downgrades containerd.io kubelet=${KUBERNETES}-1.1 kubeadm=${KUBERNETES}-1.1 kubectl=${KUBERNETES}-1.1 [proxy=]`,
    );
    expect(node.calls).toContain("apt-mark hold containerd.io kubelet kubeadm kubectl");
  });

  it("takes Kubernetes from the minor's pkgs.k8s.io repository, each repository signed by its own published key", () => {
    expect(node.read("/etc/apt/sources.list.d/kubernetes.list")).toBe(
      "deb [signed-by=/etc/apt/keyrings/kubernetes.asc] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /\n",
    );
    expect(node.calls.filter((call) => call.startsWith("curl"))).toEqual([
      expect.stringMatching(/^curl -fsSL https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.36\/deb\/Release\.key -o /),
      expect.stringMatching(/^curl -fsSL https:\/\/download\.docker\.com\/linux\/ubuntu\/gpg -o /),
    ]);
  });

  it("replaces the package's config.toml (its CRI plugin is disabled) by containerd's defaults, which import the drop-in", () => {
    expect(node.read("/etc/containerd/config.toml")).toContain("conf.d/*.toml");
    expect(node.read("/etc/containerd/conf.d/10-istio-openstack.toml")).toContain("SystemdCgroup = true");
    const order = ["systemctl daemon-reload", "systemctl restart containerd"].map((c) => node.calls.indexOf(c));
    expect(order[0]).toBeGreaterThan(node.calls.findIndex((call) => call.startsWith("apt-get install -y -q --allow")));
    expect(order[1]).toBeGreaterThan(order[0]);
  });

  it("stops when containerd's merged configuration does not use systemd cgroups (the check can fail)", () => {
    const ignored = prepare(upstream, { containerdIgnoresDropIns: true });
    expect(ignored.status).toBe(1);
    expect(ignored.stderr).toMatch(/does not use systemd cgroups/);
    expect(ignored.calls).not.toContain("systemctl enable kubelet");
  });

  it("gives up after bounded retries when the repository cannot be reached", () => {
    const offline = prepare(upstream, { failing: ["apt-get"] });
    expect(offline.status).not.toBe(0);
    expect(offline.calls.filter((call) => call.startsWith("apt-get update"))).toHaveLength(5);
    expect(offline.stderr).toMatch(/giving up on: apt-get update/);
  });
});
