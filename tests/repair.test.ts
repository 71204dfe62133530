/**
 * Node repair by configuration (nodeRepairs): bumping one node's repair generation gives it a new
 * name, so its replacement is created beside it and the old node is deleted at the end of the update;
 * nothing else of the stack is replaced. A replaced control-plane node joins (never initialises) and
 * names its predecessor, whose etcd member and Node it removes around its join.
 */
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../stacks/errors";
import { parseStackConfig } from "../stacks/load";
import { type Evaluation, evaluateStack, rawConfig } from "./harness";

const INSTANCE = "openstack:compute/instance:Instance";
const PORT = "openstack:networking/port:Port";
const MEMBER = "openstack:loadbalancer/member:Member";

const bootstrapEnv = (run: Evaluation, node: string): Record<string, string> => {
  const files = (
    parseYaml(String(run.one(INSTANCE, node).inputs.userData)) as {
      write_files: { path: string; content: string }[];
    }
  ).write_files;
  const env = files.find((f) => f.path === "/etc/kubernetes/bootstrap/bootstrap.env")?.content ?? "";
  return Object.fromEntries(
    env
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), JSON.parse(l.slice(l.indexOf("=") + 1)) as string]),
  );
};

describe("nodeRepairs in the prod stack", () => {
  let before: Evaluation;
  let after: Evaluation;
  beforeAll(async () => {
    before = await evaluateStack("prod");
    after = await evaluateStack("prod", {
      nodeRepairs: { "control-plane-0": 1, "control-plane-1": 2, "general-2": 1 },
    });
  });

  const keysOf = (run: Evaluation, type: string) => new Set(run.ofType(type).map((r) => r.name));

  it("gives exactly the repaired nodes new names, with their ports and load-balancer members", () => {
    const [old, now] = [keysOf(before, INSTANCE), keysOf(after, INSTANCE)];
    expect([...old].filter((n) => !now.has(n)).sort()).toEqual([
      "mesh-prod-control-plane-0",
      "mesh-prod-control-plane-1",
      "mesh-prod-general-2",
    ]);
    expect([...now].filter((n) => !old.has(n)).sort()).toEqual([
      "mesh-prod-control-plane-0-r1",
      "mesh-prod-control-plane-1-r2",
      "mesh-prod-general-2-r1",
    ]);
    for (const type of [PORT, MEMBER]) {
      const gone = [...keysOf(before, type)].filter((n) => !keysOf(after, type).has(n));
      expect(gone.every((n) => /control-plane-[01]|general-2/.test(n))).toBe(true);
    }
    // Every other OpenStack resource keeps its name: nothing else is replaced.
    const openstack = (run: Evaluation) =>
      new Set(
        run.resources
          .filter((r) => r.type.startsWith("openstack:") && !/control-plane-[01]|general-2/.test(r.name))
          .map((r) => r.key),
      );
    expect(openstack(after)).toEqual(openstack(before));
  });

  it("a repaired control-plane node joins, naming the node it replaces; no node initialises a second cluster", () => {
    const first = bootstrapEnv(after, "mesh-prod-control-plane-0-r1");
    expect(first).toMatchObject({ NODE_ROLE: "control-plane", REPLACES: "mesh-prod-control-plane-0" });
    expect(bootstrapEnv(after, "mesh-prod-control-plane-1-r2")).toMatchObject({
      NODE_ROLE: "control-plane",
      REPLACES: "mesh-prod-control-plane-1-r1",
    });
    const roles = after.ofType(INSTANCE).map((i) => bootstrapEnv(after, i.name).NODE_ROLE);
    expect(roles).not.toContain("init");
    // The peers a replacement probes and reaches etcd through are the current control plane.
    expect(first.CONTROL_PLANE_PEERS.split(" ")).toHaveLength(2);
  });

  it("a repaired worker carries no etcd clean-up", () => {
    const env = bootstrapEnv(after, "mesh-prod-general-2-r1");
    expect(env.NODE_ROLE).toBe("worker");
    expect(env.REPLACES).toBeUndefined();
  });
});

describe("nodeRepairs is checked against the stack's nodes", () => {
  const problemsOf = (overrides: Record<string, unknown>) => {
    try {
      parseStackConfig(rawConfig("prod", overrides), "prod");
      return "";
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
  };

  it("refuses a node the stack does not have, naming the ones it has", () => {
    expect(problemsOf({ nodeRepairs: { "control-plane-3": 1, "gpu-0": 1 } })).toMatch(
      /nodeRepairs\.control-plane-3: a node of this stack, <pool>-<index>: control-plane-0…control-plane-2, general-0…general-2 \(got "control-plane-3"\)/,
    );
    expect(problemsOf({ nodeRepairs: { "gpu-0": 1 } })).toMatch(/nodeRepairs\.gpu-0/);
  });

  it("refuses a generation below 1 and a key that is not <pool>-<index>", () => {
    expect(problemsOf({ nodeRepairs: { "general-0": 0 } })).toMatch(/nodeRepairs.*must be 1 or more/);
    expect(problemsOf({ nodeRepairs: { general: 1 } })).toMatch(/expected <pool>-<index>/);
  });

  it("accepts the stack's own nodes", () => {
    expect(problemsOf({ nodeRepairs: { "control-plane-2": 1, "general-0": 3 } })).toBe("");
  });
});
