/**
 * The scenario of `npm run e2e:openstack`: the project's program, deployed for real on OpenStack,
 * with every step asserted on the engine's own report (preview/up JSON, the stack's state) and on
 * what the OpenStack APIs say.
 */
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { kubernetes } from "../../lib/versions";
import { assert, assertEqual, assertNoChanges, changed, describe, eventually } from "../lib/assert";
import type { Bench } from "../lib/bench";
import { log } from "../lib/bench";
import { type Plan, plan as runPlan } from "../lib/plan";
import { attempt } from "../lib/proc";
import {
  countByType,
  DESTRUCTIVE_OPS,
  type OperationResult,
  type PulumiProject,
  type StateResource,
} from "../lib/pulumi";
import { type Cloud, type Snapshot, snapshotSummary } from "./cloud";

export interface Settings {
  readonly cloud: string;
  readonly externalNetwork: string;
  readonly image: string;
  readonly controlPlaneFlavor: string;
  readonly workerFlavor: string;
  readonly adminCidr: string;
  readonly nodeCidr: string;
  readonly byoCidr: string;
  /** Worker nodes before the scale step (1 or 2). */
  readonly workers: number;
  /** Prefix of both clusters' names: <prefix>-main, <prefix>-byo. */
  readonly prefix: string;
}

export interface Context {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly settings: Settings;
  readonly pulumi: PulumiProject;
  readonly cloud: Cloud;
  readonly bench: Bench;
}

export const MAIN_STACK = "e2e";
export const BYO_STACK = "e2e-byo";
/** A stack that must never deploy: its configuration is wrong on purpose. */
export const BAD_CONFIG_STACK = "e2e-bad-config";
const POOL = "general";
const INSTANCE = "openstack:compute/instance:Instance";
const PORT = "openstack:networking/port:Port";

export const names = (settings: Settings) => ({
  main: `${settings.prefix}-main`,
  byo: `${settings.prefix}-byo`,
  // Not under the BYO cluster's prefix: the pre-made network is the user's, not the stack's.
  premade: `${settings.prefix}-premade`,
});

// ---------------------------------------------------------------------------------------------
// Stack configuration, written by the driver.

function workerPools(count: number, flavor: string, floatingIps = false): string {
  return toYaml([{ name: POOL, count, flavor, ...(floatingIps ? { floatingIps } : {}) }]);
}

/** Two real OpenStack public keys (Nova parses them; the private halves were thrown away). */
const SSH_KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID117h5b5hzbZgzwZVptWRoDdrIJV6PCFdASh9yXosk3 e2e-a",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEDRbfW5xaEIFFFohwRik3NWEL2uLe6EJvIPSjEpbayK e2e-b",
] as const;

/** What every e2e stack shares: the OpenStack layer alone, destroyable, on the cloud under test. */
function commonConfig(settings: Settings): Record<string, unknown> {
  return {
    clusterMode: "openstack-only",
    protectResources: false,
    openstackCloud: settings.cloud,
    externalNetwork: settings.externalNetwork,
    nodeImage: settings.image,
    controlPlaneFlavor: settings.controlPlaneFlavor,
    adminCidrs: [settings.adminCidr],
  };
}

export function mainConfig(settings: Settings, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...commonConfig(settings),
    environment: "staging", // HA shape: 3 control-plane nodes behind Octavia
    clusterName: names(settings).main,
    nodeCidr: settings.nodeCidr,
    workerPools: workerPools(settings.workers, settings.workerFlavor),
    ...overrides,
  };
}

function byoConfig(settings: Settings, premade: Premade, sshPublicKey: string): Record<string, unknown> {
  return {
    ...commonConfig(settings),
    environment: "dev", // single control-plane node: its floating IP goes on the node's port
    clusterName: names(settings).byo,
    networkMode: "existing",
    existingNetworkId: premade.networkId,
    existingSubnetId: premade.subnetId,
    existingRouterId: premade.routerId,
    nodeCidr: settings.byoCidr,
    // Also the paths the main stack does not take: a keypair (SSH rules) and worker floating IPs.
    sshPublicKey,
    workerPools: workerPools(1, settings.workerFlavor, true),
  };
}

// ---------------------------------------------------------------------------------------------
// The project's offline plan (its own mocks): what the real state must hold, and the user data.

function plan(ctx: Context, stack: string, label: string): Promise<Plan> {
  return runPlan(ctx.repoRoot, ctx.pulumi.stackFile(stack), stack, path.join(ctx.workDir, "plans", label));
}

function assertStateMatchesPlan(state: readonly StateResource[], expected: Plan, what: string): void {
  assertEqual(
    countByType(state),
    expected.counts,
    `${what}: resources by type in the stack's state vs the project's plan`,
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers on steps and API snapshots.

function assertNoServerReplaced(result: OperationResult, what: string): void {
  const destructive = result.steps.filter((s) => DESTRUCTIVE_OPS.includes(s.op));
  assert(
    destructive.length === 0,
    `${what}: expected no create/replace/delete, engine reported: ${describe(destructive)}`,
  );
  const instances = result.steps.filter((s) => s.type === INSTANCE);
  for (const step of instances) {
    assert(["same", "update"].includes(step.op), `${what}: server ${step.name} would be ${step.op}`);
  }
}

const serverIds = (snapshot: Snapshot) =>
  Object.fromEntries(snapshot.servers.map((s) => [s.name, s.id]).sort(([a], [b]) => a.localeCompare(b)));

/** Who a security group admits on a port, as Neutron stores it: CIDRs as given, remote groups by name. */
function admitted(snap: Snapshot, groupName: string, port: number): string[] {
  const group = snap.security_groups.find((g) => g.name === groupName);
  assert(group, `no security group ${groupName}`);
  const names = new Map(snap.security_groups.map((g) => [g.id, g.name]));
  return group.ingress
    .filter((r) => r.port_min !== null && r.port_min <= port && port <= (r.port_max ?? r.port_min))
    .map((r) => r.remote_ip_prefix ?? `group ${names.get(r.remote_group_id ?? "") ?? r.remote_group_id}`)
    .sort();
}

/** The router's SNAT address as a /32: its first IPv4 external address (what Neutron's L3 agent SNATs to). */
function routerGatewayCidr(router: Snapshot["routers"][number] | undefined, what: string): string {
  const address = router?.external_ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
  assert(address, `${what}: no external IPv4 address (${JSON.stringify(router)})`);
  return `${address}/32`;
}

function stateIdOf(state: readonly StateResource[], type: string, name: string): string {
  const found = state.find((r) => r.type === type && r.urn.endsWith(`::${name}`));
  assert(found?.id, `no ${type} ${name} with an id in the stack's state`);
  return found.id;
}

async function externalNetworkId(ctx: Context): Promise<string> {
  const network = (await ctx.cloud.openstack(["network", "show", ctx.settings.externalNetwork])) as { id: string };
  return network.id;
}

// ---------------------------------------------------------------------------------------------
// Main stack: HA shape.

async function assertMainOnOpenstack(
  ctx: Context,
  state: readonly StateResource[],
  workers: number,
): Promise<Snapshot> {
  const { main } = names(ctx.settings);
  return eventually("OpenStack shows the main stack", 120, async () => {
    const snap = await ctx.cloud.snapshot([`${main}-`]);
    const expectedServers = [0, 1, 2]
      .map((i) => `${main}-control-plane-${i}`)
      .concat(Array.from({ length: workers }, (_, i) => `${main}-${POOL}-${i}`))
      .sort();
    assertEqual(snap.servers.map((s) => s.name).sort(), expectedServers, "servers");
    for (const server of snap.servers) assertEqual(server.status, "ACTIVE", `status of server ${server.name}`);
    const stateInstanceIds = state
      .filter((r) => r.type === INSTANCE)
      .map((r) => r.id)
      .sort();
    assertEqual(snap.servers.map((s) => s.id).sort(), stateInstanceIds, "server ids (API vs stack state)");

    // Each server on its own port, in its pool's server group.
    for (const server of snap.servers) {
      const port = snap.ports.find((p) => p.name === server.name);
      assert(port, `no port ${server.name}`);
      assertEqual(port.device_id, server.id, `port ${server.name} is bound to its server`);
    }
    for (const pool of ["control-plane", POOL]) {
      const group = snap.server_groups.find((g) => g.name === `${main}-${pool}`);
      assert(group, `no server group ${main}-${pool}`);
      const members = snap.servers.filter((s) => s.name.startsWith(`${main}-${pool}-`)).map((s) => s.id);
      assertEqual([...group.members].sort(), members.sort(), `members of server group ${group.name}`);
    }

    // The API endpoint: an ACTIVE Octavia load balancer, a 6443 listener, 3 members, a floating IP on the VIP.
    assertEqual(snap.load_balancers.length, 1, "load balancers");
    const lb = snap.load_balancers[0];
    assertEqual(lb.provisioning_status, "ACTIVE", `provisioning status of load balancer ${lb.name}`);
    assertEqual(
      lb.listeners.map((l) => l.protocol_port),
      [6443],
      "listener ports",
    );
    assertEqual(lb.pools.length, 1, "pools");
    const [pool] = lb.pools;
    assert(pool.health_monitor_id, "the pool has a health monitor");
    const controlPlaneAddresses = [0, 1, 2]
      .map((i) => snap.ports.find((p) => p.name === `${main}-control-plane-${i}`)?.fixed_ips[0])
      .sort();
    assertEqual(
      pool.members.map((m) => m.address).sort(),
      controlPlaneAddresses,
      "pool members (control-plane addresses)",
    );
    for (const member of pool.members) {
      assertEqual(member.protocol_port, 6443, `port of member ${member.name}`);
      assertEqual(member.provisioning_status, "ACTIVE", `provisioning status of member ${member.name}`);
    }
    // Who may reach the API: the admin CIDR, the node subnet, and the router's gateway address (nodes
    // calling the API's floating IP arrive SNAT'ed to it on a real Neutron router), on the listener
    // and on the VIP's group alike; the control-plane nodes only from the nodes and the amphorae.
    const { settings } = ctx;
    const gateway = routerGatewayCidr(snap.routers[0], `router ${main}-router`);
    const apiSources = [settings.adminCidr, settings.nodeCidr, gateway].sort();
    assertEqual(
      [...(lb.listeners[0].allowed_cidrs ?? [])].sort(),
      apiSources,
      "sources the API listener admits (allowed_cidrs)",
    );
    assertEqual(
      admitted(snap, `${main}-api-lb`, 6443),
      apiSources,
      "sources the API load balancer's group admits on 6443",
    );
    assertEqual(
      admitted(snap, `${main}-control-plane`, 6443),
      [settings.nodeCidr, `group ${main}-control-plane`, `group ${main}-worker`].sort(),
      "sources the control-plane group admits on 6443",
    );
    // The VIP is the stack's own port (created before the load balancer, given to Octavia), still
    // carrying the API load balancer's security group after Octavia plugged it.
    const vipPort = snap.ports.find((p) => p.id === lb.vip_port_id);
    assertEqual(
      lb.vip_port_id,
      stateIdOf(state, PORT, `${main}-api-vip`),
      "the load balancer's VIP port (the stack's)",
    );
    assertEqual(vipPort?.fixed_ips, [lb.vip_address], "the VIP port's address (the VIP)");
    const apiGroup = snap.security_groups.find((g) => g.name === `${main}-api-lb`);
    assertEqual(vipPort?.security_group_ids, [apiGroup?.id], "security groups of the VIP port");
    const vipFip = snap.floating_ips.filter((f) => f.port_id === lb.vip_port_id);
    assertEqual(vipFip.length, 1, "floating IPs on the load balancer's VIP port");
    assertEqual(vipFip[0].fixed_ip, lb.vip_address, "floating IP's fixed address (the VIP)");
    assertEqual(
      vipFip[0].id,
      stateIdOf(state, "openstack:networking/floatingIp:FloatingIp", `${main}-api`),
      "API floating IP id",
    );

    // The network: MTU, router to the external network.
    assertEqual(
      snap.networks.map((n) => [n.name, n.mtu]),
      [[`${main}-network`, 1450]],
      "networks (name, MTU)",
    );
    const external = await externalNetworkId(ctx);
    assertEqual(
      snap.routers.map((r) => r.external_network_id),
      [external],
      "router's external gateway",
    );
    assertEqual(
      snap.security_groups.map((g) => g.name).sort(),
      [`${main}-api-lb`, `${main}-control-plane`, `${main}-worker`],
      "security groups",
    );

    // The cloud provider's application credential.
    const credential = snap.application_credentials.find((c) => c.name === `${main}-cloud-provider`);
    assert(credential, `no application credential ${main}-cloud-provider`);
    assertEqual(credential.unrestricted, false, "application credential is restricted");
    // Only the roles the cloud provider needs, not every role of the deployer.
    assertEqual(credential.roles, ["load-balancer_member", "member"], "roles of the application credential");
    assertEqual(
      credential.id,
      stateIdOf(state, "openstack:identity/applicationCredential:ApplicationCredential", `${main}-cloud-provider`),
      "application credential id",
    );
    return snap;
  });
}

export async function deployMain(ctx: Context): Promise<void> {
  const { pulumi, bench, settings } = ctx;
  const { main } = names(settings);

  await pulumi.initStack(MAIN_STACK);
  pulumi.writeConfig(MAIN_STACK, mainConfig(settings));
  const planned = await bench.time(
    "plan (offline, the project's mocks)",
    () => plan(ctx, MAIN_STACK, "up"),
    (p) => `${Object.values(p.counts).reduce((a, b) => a + b, 0)} resources`,
  );

  // 1. up creates everything.
  const up = await bench.time(
    "up (create)",
    () => pulumi.up(MAIN_STACK),
    (r) => JSON.stringify(r.changeSummary),
  );
  bench.recordTypes("up (create)", up.timings);
  const notCreated = changed(up.steps).filter((s) => s.op !== "create");
  assert(notCreated.length === 0, `first up: expected only creates, got ${describe(notCreated)}`);
  let state = await pulumi.state(MAIN_STACK);
  assertStateMatchesPlan(state, planned, "after up");
  let snap = await bench.time("assert up on the OpenStack APIs", () =>
    assertMainOnOpenstack(ctx, state, settings.workers),
  );
  const outputs = await pulumi.outputs(MAIN_STACK);
  const apiFip = snap.floating_ips.find((f) => f.description.startsWith(`${main} Kubernetes API`));
  assertEqual(outputs.apiEndpoint, `https://${apiFip?.address}:6443`, "stack output apiEndpoint");

  // 2. No perpetual diff: preview and refresh are clean.
  const preview = await bench.time("preview --expect-no-changes", () =>
    pulumi.preview(MAIN_STACK, { expectNoChanges: true }),
  );
  assertNoChanges(preview, "preview after up");
  const refresh = await bench.time("refresh --expect-no-changes", () =>
    pulumi.refresh(MAIN_STACK, { expectNoChanges: true }),
  );
  assertNoChanges(refresh, "refresh after up");

  // 3. A new node bootstrap template (kubernetesVersion changes every node's rendered user data)
  //    previews and applies without replacing any server.
  const before = serverIds(snap);
  const version = kubernetes.version;
  const [major, minor, patch] = version.split(".").map(Number);
  const otherVersion = `${major}.${minor}.${patch > 0 ? patch - 1 : patch + 1}`;
  pulumi.writeConfig(MAIN_STACK, mainConfig(settings, { kubernetesVersion: otherVersion }));
  await bench.time("template update (preview + up)", async () => {
    const replanned = await plan(ctx, MAIN_STACK, "template");
    assertEqual(Object.keys(replanned.userData).sort(), Object.keys(planned.userData).sort(), "nodes with user data");
    assert(Object.keys(planned.userData).length === 3 + settings.workers, "user data rendered for every node");
    for (const [file, text] of Object.entries(replanned.userData)) {
      assert(
        text !== planned.userData[file],
        `kubernetesVersion ${version} -> ${otherVersion} did not change the user data of ${file}`,
      );
    }
    assertNoServerReplaced(await pulumi.preview(MAIN_STACK), "preview of the template change");
    assertNoServerReplaced(await pulumi.up(MAIN_STACK), "up of the template change");
    state = await pulumi.state(MAIN_STACK);
    snap = await assertMainOnOpenstack(ctx, state, settings.workers);
    assertEqual(serverIds(snap), before, "server ids after the template change (API)");
  });

  // 4. Scaling the worker pool by one creates that node (its port and instance) and nothing else.
  const scaledWorkers = settings.workers + 1;
  const newNode = `${main}-${POOL}-${settings.workers}`;
  pulumi.writeConfig(
    MAIN_STACK,
    mainConfig(settings, {
      kubernetesVersion: otherVersion,
      workerPools: workerPools(scaledWorkers, settings.workerFlavor),
    }),
  );
  await bench.time("scale workers +1 (preview + up)", async () => {
    const scaledPlan = await plan(ctx, MAIN_STACK, "scale");
    const expected = `create ${INSTANCE} ${newNode}; create ${PORT} ${newNode}`;
    const scalePreview = await pulumi.preview(MAIN_STACK);
    assertEqual(describe(changed(scalePreview.steps)), expected, "steps of the scale preview");
    const scaleUp = await pulumi.up(MAIN_STACK);
    assertEqual(describe(changed(scaleUp.steps)), expected, "steps of the scale up");
    state = await pulumi.state(MAIN_STACK);
    assertStateMatchesPlan(state, scaledPlan, "after scaling");
    snap = await assertMainOnOpenstack(ctx, state, scaledWorkers);
    const after = serverIds(snap);
    assert(after[newNode], `no server ${newNode}`);
    const { [newNode]: _new, ...kept } = after;
    assertEqual(kept, before, "ids of the servers that existed before the scale (API)");
    // Neither the template change nor the scale leaves a diff behind.
    assertNoChanges(await pulumi.preview(MAIN_STACK, { expectNoChanges: true }), "preview after the scale");
  });
}

// ---------------------------------------------------------------------------------------------
// Bad configuration under the real CLI: the message the docs show, not an object dump.

/** What the Node.js runtime prints for an error it does not recognise: util.inspect of the object, in colour. */
const OBJECT_DUMP = [/problems: \[/, /namespace: '/, /^\s+at /m, /unhandled exception/];
const ANSI_ESCAPE = "\u001b[";

export async function configurationErrors(ctx: Context): Promise<void> {
  const { pulumi, bench, settings } = ctx;
  await pulumi.initStack(BAD_CONFIG_STACK);
  // Two bad keys, the README's example: an even control plane and a world-open API in prod.
  pulumi.writeConfig(
    BAD_CONFIG_STACK,
    mainConfig(settings, { environment: "prod", controlPlaneCount: 2, adminCidrs: ["0.0.0.0/0"] }),
  );
  await bench.time("bad configuration: preview refuses it, as the offline plan does", async () => {
    const planned = await attempt(
      path.join(ctx.repoRoot, "node_modules/.bin/tsx"),
      ["tools/plan.ts", "--stack", BAD_CONFIG_STACK, "--stack-file", pulumi.stackFile(BAD_CONFIG_STACK)],
      { cwd: ctx.repoRoot, timeoutSeconds: 300 },
    );
    assertEqual(planned.status, 1, "exit status of the offline plan of a bad stack");
    const expected = planned.stderr.trim().split("\n");
    assert(
      /^Configuration of stack "e2e-bad-config" is invalid \(2 problems\); nothing was created:$/.test(expected[0]) &&
        expected.length === 3 &&
        expected.some((line) => /^ {2}- istio-openstack:adminCidrs\[0\]: opens the Kubernetes API/.test(line)) &&
        expected.some((line) => /^ {2}- istio-openstack:controlPlaneCount: expected 1, 3 or 5/.test(line)),
      `the offline plan's message is not the documented one:\n${planned.stderr}`,
    );

    const preview = await pulumi.previewText(BAD_CONFIG_STACK);
    const output = `${preview.stdout}\n${preview.stderr}`;
    assert(preview.status !== 0, `preview of a bad configuration exited 0:\n${output}`);
    const lines = output.split("\n").map((line) => line.trim());
    for (const line of expected) {
      assert(
        lines.some((printed) => printed.endsWith(line.trim())),
        `preview does not print the line ${JSON.stringify(line.trim())}; it printed:\n${output}`,
      );
    }
    for (const dump of OBJECT_DUMP) {
      assert(!dump.test(output), `preview prints something like an object dump (${dump}):\n${output}`);
    }
    assert(!output.includes(ANSI_ESCAPE), `preview prints colour codes (util.inspect's):\n${JSON.stringify(output)}`);
  });
  await pulumi.removeStack(BAD_CONFIG_STACK);
}

// ---------------------------------------------------------------------------------------------
// Bring your own network: a second stack on a network, subnet and router made with the CLI.

interface Premade {
  readonly networkId: string;
  readonly subnetId: string;
  readonly routerId: string;
}

async function createPremade(ctx: Context): Promise<Premade> {
  const { premade } = names(ctx.settings);
  const os = (args: string[]) => ctx.cloud.openstack(args) as Promise<{ id: string }>;
  const network = await os(["network", "create", `${premade}-net`]);
  const subnet = await os([
    "subnet",
    "create",
    `${premade}-subnet`,
    "--network",
    network.id,
    "--subnet-range",
    ctx.settings.byoCidr,
  ]);
  const router = await os(["router", "create", `${premade}-router`]);
  await ctx.cloud.openstack(["router", "set", "--external-gateway", ctx.settings.externalNetwork, router.id], false);
  await ctx.cloud.openstack(["router", "add", "subnet", router.id, subnet.id], false);
  return { networkId: network.id, subnetId: subnet.id, routerId: router.id };
}

/** Deletes the pre-made network, subnet and router by name (idempotent: also the clean-up path). */
export async function deletePremade(ctx: Context): Promise<void> {
  const { premade } = names(ctx.settings);
  const routers = (await ctx.cloud.openstack(["router", "list", "--name", `${premade}-router`])) as { ID: string }[];
  const subnets = (await ctx.cloud.openstack(["subnet", "list", "--name", `${premade}-subnet`])) as { ID: string }[];
  for (const router of routers) {
    for (const subnet of subnets) {
      await ctx.cloud.openstack(["router", "remove", "subnet", router.ID, subnet.ID], false).catch(() => undefined);
    }
    await ctx.cloud.openstack(["router", "delete", router.ID], false);
  }
  const networks = (await ctx.cloud.openstack(["network", "list", "--name", `${premade}-net`])) as { ID: string }[];
  for (const network of networks) await ctx.cloud.openstack(["network", "delete", network.ID], false);
}

export async function bringYourOwnNetwork(ctx: Context): Promise<void> {
  const { pulumi, bench, settings, cloud } = ctx;
  const { byo } = names(settings);
  const premade = await bench.time("BYO: network, subnet, router made with the openstack CLI", () =>
    createPremade(ctx),
  );

  await pulumi.initStack(BYO_STACK);
  pulumi.writeConfig(BYO_STACK, byoConfig(settings, premade, SSH_KEYS[0]));
  // (No offline plan here: the plan's mocks cannot evaluate an existing network, they need its subnet's CIDR.)
  const up = await bench.time(
    "BYO: up",
    () => pulumi.up(BYO_STACK),
    (r) => JSON.stringify(r.changeSummary),
  );
  const networkTypes = ["Network", "Subnet", "Router", "RouterInterface"].map(
    (t) => `openstack:networking/${t[0].toLowerCase()}${t.slice(1)}:${t}`,
  );
  const madeNetwork = up.steps.filter((s) => networkTypes.includes(s.type));
  assert(madeNetwork.length === 0, `BYO up must not create network resources, did: ${describe(madeNetwork)}`);
  const state = await pulumi.state(BYO_STACK);
  const custom = countByType(state.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")));
  const { "openstack:networking/secGroupRule:SecGroupRule": rules, ...others } = custom;
  assert(rules > 0, "BYO: security group rules");
  assertEqual(
    others,
    {
      "openstack:compute/instance:Instance": 2,
      "openstack:compute/keypair:Keypair": 1,
      "openstack:compute/serverGroup:ServerGroup": 2,
      "openstack:identity/applicationCredential:ApplicationCredential": 1,
      "openstack:networking/floatingIp:FloatingIp": 2,
      "openstack:networking/floatingIpAssociate:FloatingIpAssociate": 2,
      "openstack:networking/port:Port": 2,
      "openstack:networking/secGroup:SecGroup": 2,
    },
    "BYO: resources by type in the stack's state",
  );
  const byoSnapshot = () =>
    eventually("OpenStack shows the BYO stack", 120, async () => {
      const snap = await cloud.snapshot([`${byo}-`]);
      assertEqual(
        snap.servers.map((s) => s.name).sort(),
        [`${byo}-control-plane-0`, `${byo}-${POOL}-0`],
        "BYO servers",
      );
      for (const server of snap.servers) {
        assertEqual(server.status, "ACTIVE", `status of server ${server.name}`);
        const port = snap.ports.find((p) => p.name === server.name);
        assertEqual(port?.network_id, premade.networkId, `network of ${server.name}'s port (the pre-made one)`);
        assertEqual(port?.device_id, server.id, `port ${server.name} is bound to its server`);
      }
      for (const node of [`${byo}-control-plane-0`, `${byo}-${POOL}-0`]) {
        const port = snap.ports.find((p) => p.name === node);
        const fip = snap.floating_ips.filter((f) => f.port_id === port?.id);
        assertEqual(fip.length, 1, `floating IPs on ${node}'s port`);
        assertEqual(fip[0].fixed_ip, port?.fixed_ips[0], `${node}'s floating IP's fixed address`);
      }
      assertEqual(snap.networks, [], "networks made by the BYO stack");
      // Single node: the API's floating IP is on the node itself, whose group admits the admin CIDR
      // and the pre-made router's gateway address (the other node's joins, SNAT'ed by the router).
      const premadeRouter = (await cloud.snapshot([`${names(settings).premade}-`])).routers[0];
      assertEqual(
        admitted(snap, `${byo}-control-plane`, 6443),
        [
          settings.adminCidr,
          routerGatewayCidr(premadeRouter, "the pre-made router"),
          `group ${byo}-control-plane`,
          `group ${byo}-worker`,
        ].sort(),
        "sources the BYO control-plane group admits on 6443",
      );
      assertEqual(snap.load_balancers, [], "load balancers of the single-node BYO stack");
      assertEqual(snap.keypairs.length, 1, "keypairs of the BYO stack");
      return snap;
    });
  const before = await byoSnapshot();
  assertNoChanges(await pulumi.preview(BYO_STACK, { expectNoChanges: true }), "BYO preview after up");
  assertNoChanges(await pulumi.refresh(BYO_STACK, { expectNoChanges: true }), "BYO refresh after up");

  // A new SSH key: its keypair is replaced (new beside old, then the old deleted), no node is.
  pulumi.writeConfig(BYO_STACK, byoConfig(settings, premade, SSH_KEYS[1]));
  await bench.time("BYO: new sshPublicKey (preview + up)", async () => {
    for (const result of [await pulumi.preview(BYO_STACK), await pulumi.up(BYO_STACK)]) {
      const diff = changed(result.steps);
      assert(
        diff.length > 0 && diff.every((s) => s.type === "openstack:compute/keypair:Keypair"),
        `a new sshPublicKey must replace the keypair and nothing else, engine reported: ${describe(diff)}`,
      );
    }
    const after = await byoSnapshot();
    assertEqual(serverIds(after), serverIds(before), "BYO server ids after the new key");
    assert(after.keypairs[0].name !== before.keypairs[0].name, "the keypair was not replaced");
    assertNoChanges(await pulumi.preview(BYO_STACK, { expectNoChanges: true }), "BYO preview after the new key");
  });

  const ids = (await pulumi.state(BYO_STACK)).filter(
    (r) => r.custom && r.id && !r.type.startsWith("pulumi:providers:"),
  );
  await bench.time(
    "BYO: destroy",
    () => pulumi.destroy(BYO_STACK),
    (r) => JSON.stringify(r.changeSummary),
  );
  assertEqual((await pulumi.state(BYO_STACK)).filter((r) => r.custom).length, 0, "BYO resources left in the state");
  await eventually("BYO resources gone from the APIs", 120, async () => {
    const alive = await cloud.alive(ids.map((r) => ({ type: r.type, id: r.id as string, inputs: r.inputs })));
    assertEqual(
      alive.map((r) => `${r.type} ${r.id}`),
      [],
      "BYO resources the APIs still return",
    );
    const snap = await cloud.snapshot([`${byo}-`]);
    assertEqual(snapshotSummary(snap), "", "resources named after the BYO cluster");
  });
  // The pre-made network is the user's: still there, with its subnet and router.
  assert(await cloud.exists(["network"], premade.networkId), "the pre-made network is gone after the BYO destroy");
  assert(await cloud.exists(["subnet"], premade.subnetId), "the pre-made subnet is gone after the BYO destroy");
  assert(await cloud.exists(["router"], premade.routerId), "the pre-made router is gone after the BYO destroy");
  await pulumi.removeStack(BYO_STACK);
  await bench.time("BYO: delete the pre-made network (openstack CLI)", () => deletePremade(ctx));
  assert(!(await cloud.exists(["network"], premade.networkId)), "the pre-made network could not be deleted");
}

// ---------------------------------------------------------------------------------------------
// Destroy: nothing left.

export async function destroyMain(ctx: Context, baseline: string[] | undefined): Promise<void> {
  const { pulumi, bench, cloud, settings } = ctx;
  const state = await pulumi.state(MAIN_STACK);
  const ids = state.filter((r) => r.custom && r.id && !r.type.startsWith("pulumi:providers:"));
  const destroyed = await bench.time(
    "destroy",
    () => pulumi.destroy(MAIN_STACK),
    (r) => JSON.stringify(r.changeSummary),
  );
  bench.recordTypes("destroy", destroyed.timings);
  assertEqual((await pulumi.state(MAIN_STACK)).filter((r) => r.custom).length, 0, "resources left in the state");
  await bench.time("assert nothing left (OpenStack APIs)", () =>
    eventually("nothing left", 180, async () => {
      const alive = await cloud.alive(ids.map((r) => ({ type: r.type, id: r.id as string, inputs: r.inputs })));
      assertEqual(
        alive.map((r) => `${r.type} ${r.id}`),
        [],
        `of the ${ids.length} resources the stack had, the APIs still return`,
      );
      const { main, byo, premade } = names(settings);
      const snap = await cloud.snapshot([`${main}-`, `${byo}-`, `${premade}-`]);
      assertEqual(snapshotSummary(snap), "", "resources named after the e2e clusters");
      if (baseline) {
        const left = await cloud.leftovers();
        const fresh = left.items.filter((item) => !baseline.includes(item));
        assertEqual(fresh, [], "leftovers.sh: resources in the project that were not there before the run");
      }
    }),
  );
  await pulumi.removeStack(MAIN_STACK);
}

/** Before the run (a previous run interrupted) and after a failure: destroy whatever the e2e stacks hold. */
export async function cleanUp(ctx: Context): Promise<string[]> {
  const problems: string[] = [];
  let stacks: { name: string }[] = [];
  try {
    stacks = await ctx.pulumi.stacks();
  } catch (error) {
    problems.push(`pulumi stack ls: ${(error as Error).message}`);
  }
  for (const stack of [BAD_CONFIG_STACK, BYO_STACK, MAIN_STACK]) {
    if (!stacks.some((s) => s.name === stack || s.name.endsWith(`/${stack}`))) continue;
    try {
      log(`clean-up: destroying stack ${stack}`);
      await ctx.pulumi.destroy(stack);
      await ctx.pulumi.removeStack(stack);
    } catch (error) {
      problems.push(`destroy ${stack}: ${(error as Error).message}`);
    }
  }
  try {
    await deletePremade(ctx);
  } catch (error) {
    problems.push(`delete the pre-made BYO network: ${(error as Error).message}`);
  }
  return problems;
}
