/**
 * The control plane's hardening proven on the real kube-apiserver the bootstrap ring started with
 * the flags kubeadm rendered from the program's init.yaml and the files the first control-plane
 * node's user data wrote (apiserver.sh R7): the CIS flags are there; a Secret written through the
 * API server is stored encrypted in etcd and read back decrypted; the audit log records it without
 * its value; Pod Security Admission refuses a host-network pod outside the exempt namespaces.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { RunResult } from "../lib/proc";

/** kubectl against the ring's API server with a given kubeconfig; resolves even when it fails. */
export type Kubectl = (kubeconfig: string, args: string[], input?: string) => Promise<RunResult>;
/** Runs a tool; rejects when it fails. */
export type Tool = (command: string, args: string[], input?: string) => Promise<RunResult>;

export interface HardeningRing {
  readonly kubectl: Kubectl;
  readonly tool: Tool;
  /** The admin kubeconfig the program outputs. */
  readonly adminConf: string;
  /** apiserver.sh's state dir: kube-apiserver.flags, endpoints.env. */
  readonly state: string;
  /** The first control-plane node's laid-out root (its /etc/kubernetes, /var/log/kubernetes). */
  readonly nodeRoot: string;
  readonly pkiDir: string;
}

function fail(message: string): never {
  throw new Error(message);
}

/** The flags the API server runs with, as apiserver.sh started it (after its rewrites). */
export function runningFlags(state: string): Map<string, string> {
  return new Map(
    readFileSync(path.join(state, "kube-apiserver.flags"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
  );
}

/** CIS Kubernetes Benchmark 1.12 items the control plane must satisfy, as flag → expected value (undefined: set). */
export const CIS_FLAGS: Readonly<Record<string, string | undefined>> = {
  "--profiling": "false", // 1.2.15
  "--audit-log-path": undefined, // 1.2.16
  "--audit-log-maxage": "30", // 1.2.17
  "--audit-log-maxbackup": "10", // 1.2.18
  "--audit-log-maxsize": "100", // 1.2.19
  "--audit-policy-file": undefined,
  "--encryption-provider-config": undefined, // 1.2.27
  "--kubelet-certificate-authority": undefined, // 1.2.5
  "--admission-control-config-file": undefined, // 5.2 (Pod Security defaults)
};

export function checkFlags(state: string): string {
  const flags = runningFlags(state);
  const problems = Object.entries(CIS_FLAGS).flatMap(([flag, expected]) => {
    const actual = flags.get(flag);
    if (actual === undefined) return [`${flag} is not set`];
    if (expected !== undefined && actual !== expected) return [`${flag}=${actual}, expected ${expected}`];
    return [];
  });
  if (problems.length) fail(`the API server runs without the hardening flags: ${problems.join("; ")}`);
  return `${Object.keys(CIS_FLAGS).length} CIS flags set (profiling, audit log 30/10/100, encryption, admission, kubelet CA)`;
}

function endpoints(state: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path.join(state, "endpoints.env"), "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** The raw bytes etcd stores under a key, through etcd's JSON gateway (no etcdctl needed). */
async function etcdValue(ring: HardeningRing, key: string): Promise<Buffer> {
  const url = `${endpoints(ring.state).ETCD_CLIENT_URL}/v3/kv/range`;
  const pki = ring.pkiDir;
  const result = await ring.tool("curl", [
    "--silent",
    "--show-error",
    "--fail",
    "--max-time",
    "10",
    "--cacert",
    path.join(pki, "etcd", "ca.crt"),
    "--cert",
    path.join(pki, "apiserver-etcd-client.crt"),
    "--key",
    path.join(pki, "apiserver-etcd-client.key"),
    "--data-binary",
    JSON.stringify({ key: Buffer.from(key).toString("base64") }),
    url,
  ]);
  const kvs = (JSON.parse(result.stdout) as { kvs?: { value: string }[] }).kvs ?? [];
  if (kvs.length !== 1) fail(`etcd holds ${kvs.length} values under ${key}`);
  return Buffer.from(kvs[0].value, "base64");
}

export const PROBE_SECRET = { namespace: "default", name: "e2e-encryption-probe" } as const;

/** Writes a Secret through the API server; proves it is encrypted in etcd and decrypted on read. */
export async function checkEncryptionAtRest(ring: HardeningRing, value: string): Promise<string> {
  const { namespace, name } = PROBE_SECRET;
  const created = await ring.kubectl(ring.adminConf, [
    "create",
    "secret",
    "generic",
    name,
    "-n",
    namespace,
    `--from-literal=value=${value}`,
  ]);
  if (created.status !== 0) fail(`could not create the probe Secret: ${created.stderr}`);
  const stored = await etcdValue(ring, `/registry/secrets/${namespace}/${name}`);
  const prefix = "k8s:enc:secretbox:v1:key-1:";
  if (!stored.subarray(0, prefix.length).equals(Buffer.from(prefix))) {
    fail(`etcd stores the Secret as ${JSON.stringify(stored.subarray(0, 40).toString("latin1"))}…, not ${prefix}…`);
  }
  if (stored.includes(value)) fail("the Secret's value is readable in etcd");
  const read = await ring.kubectl(ring.adminConf, [
    "get",
    "secret",
    name,
    "-n",
    namespace,
    "-o",
    "jsonpath={.data.value}",
  ]);
  if (Buffer.from(read.stdout, "base64").toString() !== value) fail("the API server does not read the Secret back");
  return `etcd holds ${prefix}… (${stored.length} bytes, no plaintext); the API server reads it back`;
}

interface AuditEvent {
  level: string;
  verb: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  requestObject?: unknown;
  responseObject?: unknown;
}

/** The audit log (written by the API server through the node's policy) has the probe Secret's event without its value. */
export function checkAuditLog(ring: HardeningRing, value: string): string {
  const flags = runningFlags(ring.state);
  const file = flags.get("--audit-log-path") ?? fail("no --audit-log-path");
  if (!file.startsWith(ring.nodeRoot)) fail(`the audit log ${file} is not the node's (${ring.nodeRoot})`);
  const text = readFileSync(file, "utf8");
  if (text.includes(value)) fail("the probe Secret's value is in the audit log");
  const events = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
  const probe = events.filter(
    (e) => e.objectRef?.resource === "secrets" && e.objectRef.name === PROBE_SECRET.name && e.verb === "create",
  );
  if (probe.length !== 1) fail(`expected one audit event for creating the probe Secret, found ${probe.length}`);
  if (probe[0].level !== "Metadata" || probe[0].requestObject || probe[0].responseObject) {
    fail(`the probe Secret's creation is logged at ${probe[0].level}, with its body`);
  }
  const writes = events.filter((e) => e.level === "Request").length;
  return `${events.length} events; the Secret's creation at Metadata, no value anywhere; ${writes} writes with their request`;
}

const hostNetworkPod = (namespace: string, serviceAccount: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "e2e-host-network", namespace },
    spec: { serviceAccountName: serviceAccount, hostNetwork: true, containers: [{ name: "c", image: "busybox" }] },
  });

/** Pod Security Admission: baseline enforced in an ordinary namespace, the system namespaces exempt. */
export async function checkPodSecurity(ring: HardeningRing, serviceAccount: string): Promise<string> {
  const dryRun = (namespace: string) =>
    ring.kubectl(ring.adminConf, ["apply", "--dry-run=server", "-f", "-"], hostNetworkPod(namespace, serviceAccount));
  const refused = await dryRun("default");
  if (refused.status === 0 || !/violates PodSecurity "baseline:latest": host namespaces/.test(refused.stderr)) {
    fail(`a host-network pod in default was not refused by PodSecurity baseline: ${refused.stdout}${refused.stderr}`);
  }
  const account = await ring.kubectl(ring.adminConf, ["create", "serviceaccount", serviceAccount, "-n", "kube-system"]);
  if (account.status !== 0) fail(`could not create a service account in kube-system: ${account.stderr}`);
  const exempt = await dryRun("kube-system");
  if (exempt.status !== 0) fail(`kube-system is not exempt: ${exempt.stderr}`);
  return "host-network pod: refused in default (baseline), admitted in kube-system (exempt)";
}
