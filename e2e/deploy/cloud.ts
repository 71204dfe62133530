/**
 * The OpenStack side of the assertions: what the APIs say exists (osquery.py, through openstacksdk),
 * the `openstack` CLI for what a user would do by hand (the bring-your-own network), the control
 * plane's leftovers listing, and the service logs to show when something fails.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { attempt, run, tail } from "../lib/proc";

export interface Snapshot {
  readonly project_id: string;
  readonly servers: { id: string; name: string; status: string; created: string; flavor?: string }[];
  readonly server_groups: { id: string; name: string; policies: string[]; members: string[] }[];
  readonly keypairs: { id: string; name: string }[];
  readonly networks: { id: string; name: string; mtu: number }[];
  readonly subnets: { id: string; name: string; cidr: string; network_id: string }[];
  readonly routers: { id: string; name: string; external_network_id?: string; external_ips: string[] }[];
  readonly ports: {
    id: string;
    name: string;
    network_id: string;
    device_owner: string;
    device_id: string;
    fixed_ips: string[];
    security_group_ids: string[];
  }[];
  readonly floating_ips: { id: string; address: string; port_id?: string; fixed_ip?: string; description: string }[];
  readonly security_groups: {
    id: string;
    name: string;
    rules: number;
    ingress: {
      protocol: string | null;
      port_min: number | null;
      port_max: number | null;
      remote_ip_prefix: string | null;
      remote_group_id: string | null;
    }[];
  }[];
  readonly load_balancers: {
    id: string;
    name: string;
    provisioning_status: string;
    operating_status: string;
    vip_port_id: string;
    vip_address: string;
    listeners: { id: string; protocol_port: number; allowed_cidrs: string[] | null; provisioning_status: string }[];
    pools: {
      id: string;
      provisioning_status: string;
      health_monitor_id: string | null;
      members: { id: string; name: string; address: string; protocol_port: number; provisioning_status: string }[];
    }[];
  }[];
  readonly application_credentials: { id: string; name: string; unrestricted: boolean; roles: string[] }[];
}

/** Names of what a snapshot holds, for messages: "servers=3, ports=4". Empty string when nothing. */
export function snapshotSummary(snapshot: Snapshot): string {
  return Object.entries(snapshot)
    .filter(([key, value]) => key !== "project_id" && Array.isArray(value) && value.length > 0)
    .map(
      ([key, value]) =>
        `${key}=${(value as unknown[]).length} (${(value as { name?: string; id: string }[]).map((v) => v.name || v.id).join(", ")})`,
    )
    .join("; ");
}

export interface CloudOptions {
  readonly cloud: string;
  /** clouds.yaml; undefined: the usual search path of the OpenStack clients. */
  readonly cloudsYaml?: string;
  readonly python: string;
  readonly repoRoot: string;
  readonly workDir: string;
  /** The local control plane's state directory (logs, leftovers.sh); undefined against a real cloud. */
  readonly localStateDir?: string;
}

export class Cloud {
  constructor(readonly options: CloudOptions) {}

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // Credentials come only from clouds.yaml: OS_* variables of the caller would silently win.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("OS_")) env[k] = v;
    env.OS_CLOUD = this.options.cloud;
    if (this.options.cloudsYaml) env.OS_CLIENT_CONFIG_FILE = this.options.cloudsYaml;
    return env;
  }

  get local(): boolean {
    return this.options.localStateDir !== undefined;
  }

  async snapshot(prefixes: readonly string[]): Promise<Snapshot> {
    const script = path.join(this.options.repoRoot, "e2e/deploy/osquery.py");
    const result = await run(this.options.python, [script, "snapshot", ...prefixes], {
      env: this.env,
      timeoutSeconds: 300,
    });
    return JSON.parse(result.stdout) as Snapshot;
  }

  /** Which of these resources (Pulumi type, id, inputs) the APIs still return. */
  async alive(resources: readonly { type: string; id: string; inputs?: Record<string, unknown> }[]) {
    const file = path.join(this.options.workDir, "alive-query.json");
    writeFileSync(file, JSON.stringify(resources));
    const script = path.join(this.options.repoRoot, "e2e/deploy/osquery.py");
    const result = await run(this.options.python, [script, "alive", file], { env: this.env, timeoutSeconds: 600 });
    return JSON.parse(result.stdout) as { type: string; id: string }[];
  }

  /** The `openstack` CLI, JSON output where the command has one. */
  async openstack(args: readonly string[], json = true): Promise<unknown> {
    const result = await run("openstack", [...args, ...(json ? ["-f", "json"] : [])], {
      env: this.env,
      timeoutSeconds: 300,
    });
    return json ? (JSON.parse(result.stdout || "null") as unknown) : result.stdout;
  }

  /** True when `openstack <kind> show <id>` finds it. */
  async exists(kind: string[], id: string): Promise<boolean> {
    const result = await attempt("openstack", [...kind, "show", id, "-f", "json"], {
      env: this.env,
      timeoutSeconds: 300,
    });
    if (result.status === 0) return true;
    if (/No (\w+ )*found|could not be found|not found/i.test(result.stderr)) return false;
    throw new Error(`openstack ${kind.join(" ")} show ${id} failed: ${tail(result.stderr, 10)}`);
  }

  /**
   * The control plane's own listing of everything a project holds (e2e/openstack/leftovers.sh), as
   * a set of lines naming each leftover. Local control plane only.
   */
  async leftovers(): Promise<{ clean: boolean; items: string[]; output: string }> {
    const script = path.join(this.options.repoRoot, "e2e/openstack/leftovers.sh");
    const result = await attempt("bash", [script, "--cloud", this.options.cloud], {
      env: this.env,
      timeoutSeconds: 300,
    });
    if (result.status !== 0 && result.status !== 1) {
      throw new Error(`leftovers.sh could not ask the APIs (exit ${result.status}): ${tail(result.stderr, 20)}`);
    }
    const items = result.stdout
      .split("\n")
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim());
    return { clean: result.status === 0, items, output: result.stdout };
  }

  /** The tails of the service logs that matter for a failure (all of them when nothing points anywhere). */
  serviceLogTails(failure: string, lines = 15): string {
    const dir = this.options.localStateDir ? path.join(this.options.localStateDir, "log") : undefined;
    if (!dir || !existsSync(dir)) return "(no local OpenStack logs: a remote cloud)";
    const wanted: string[] = [];
    if (/loadbalancer|octavia|listener|pool|member|monitor/i.test(failure))
      wanted.push("octavia-api", "octavia-worker");
    if (/compute|instance|server|nova|flavor|image/i.test(failure)) {
      wanted.push("nova-api", "nova-conductor", "nova-scheduler", "nova-compute", "glance");
    }
    if (/network|subnet|router|port|floating|secgroup|security|neutron/i.test(failure)) wanted.push("neutron-server");
    if (/identity|credential|keystone|auth|token/i.test(failure)) wanted.push("keystone");
    // Nothing points anywhere: the API front doors and the workers that do the work.
    if (wanted.length === 0) wanted.push("keystone", "neutron-server", "nova-api", "nova-compute", "octavia-worker");
    const chosen = wanted.map((w) => `${w}.log`).filter((f) => existsSync(path.join(dir, f)));
    return chosen
      .map((f) => {
        const text = readFileSync(path.join(dir, f), "utf8");
        // The errors say more than the request log around them; without errors, the plain tail.
        const errors = text.split("\n").filter((line) => / (ERROR|CRITICAL) |Traceback/.test(line));
        return errors.length
          ? `--- last ${Math.min(lines, errors.length)} error lines of ${path.join(dir, f)} ---\n${errors.slice(-lines).join("\n")}`
          : `--- last ${lines} lines of ${path.join(dir, f)} ---\n${tail(text, lines)}`;
      })
      .join("\n");
  }
}
