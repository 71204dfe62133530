// The benchmark's model of `pulumi up`: the offline engine records the order the real engine would
// follow (input dependencies included, not only dependsOn), and the critical path schedules it the
// way the engine runs it (tools/criticalPath.ts, latencies in tools/latency.ts).
import { criticalPath } from "../tools/criticalPath";
import type { RecordedResource } from "../tools/mocks";
import { unavoidableChain } from "../tools/unavoidable";
import { evaluateProgram, evaluateStack } from "./harness";

describe("the offline engine records the dependencies the real engine orders by", () => {
  it("an Output of another resource used as an input is a dependency, without dependsOn", async () => {
    const run = await evaluateProgram(() => {
      const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
      const network = new openstack.networking.Network("net", {});
      const subnet = new openstack.networking.Subnet("sub", { networkId: network.id, cidr: "10.0.0.0/24" });
      // Through an apply: the value still carries the resource it came from.
      new openstack.networking.Port("port", {
        networkId: network.id.apply((id) => id),
        fixedIps: [{ subnetId: subnet.id }],
      });
      return {};
    });
    const port = run.one("openstack:networking/port:Port", "port");
    expect(port.dependsOn).toEqual([]);
    expect(port.dependencies).toEqual([
      "openstack:networking/network:Network::net",
      "openstack:networking/subnet:Subnet::sub",
    ]);
    expect(port.inputDependencies).toEqual({
      fixedIps: ["openstack:networking/subnet:Subnet::sub"],
      networkId: ["openstack:networking/network:Network::net"],
    });
  });

  it("dependsOn a component waits for the custom resources it parents; providers are recorded", async () => {
    const run = await evaluateProgram(() => {
      const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
      const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
      const provider = new openstack.Provider("os", {});
      const group = new pulumi.ComponentResource("test:index:Group", "group", {});
      new openstack.networking.SecGroup("a", {}, { parent: group, provider });
      new openstack.networking.SecGroup("b", {}, { parent: group, provider });
      new openstack.networking.Network("after", {}, { dependsOn: [group], provider });
      return {};
    });
    const after = run.one("openstack:networking/network:Network", "after");
    expect(after.dependsOn).toEqual(["test:index:Group::group"]);
    expect(after.dependencies).toEqual([
      "openstack:networking/secGroup:SecGroup::a",
      "openstack:networking/secGroup:SecGroup::b",
    ]);
    expect(after.providers).toEqual(["pulumi:providers:openstack::os"]);
  });
});

describe("a component its provider implements (helm.v4.Chart)", () => {
  it("is recorded as remote and takes its chart's time on the critical path", async () => {
    const run = await evaluateProgram(() => {
      const k8s = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      const crds = new k8s.helm.v4.Chart(
        "crds",
        { chart: "crd.projectcalico.org.v1", version: "v3.32.4" },
        { provider },
      );
      new k8s.helm.v3.Release(
        "calico",
        { chart: "tigera-operator", version: "v3.32.4" },
        { provider, dependsOn: [crds] },
      );
      return {};
    });
    const chart = run.one("kubernetes:helm.sh/v4:Chart", "crds");
    expect(chart.remote).toBe(true);
    const calico = run.one("kubernetes:helm.sh/v3:Release", "calico");
    expect(calico.dependencies).toContain(chart.key);
    const path = criticalPath(run.resources);
    expect(path.chain.map((s) => [s.key, s.seconds])).toEqual([
      ["pulumi:providers:kubernetes::k8s", 1],
      [chart.key, 20],
      [calico.key, 45],
    ]);
  });
});

/** A resource as the engine records it, for hand-built graphs. */
function resource(
  type: string,
  name: string,
  dependencies: string[] = [],
  extra: Partial<RecordedResource> = {},
): RecordedResource {
  return {
    key: `${type}::${name}`,
    type,
    name,
    custom: true,
    inputs: {},
    secretInputs: [],
    secretPaths: [],
    dependsOn: [],
    dependencies,
    inputDependencies: {},
    providers: [],
    options: {},
    ...extra,
  };
}

const NETWORK = "openstack:networking/network:Network";
const PORT = "openstack:networking/port:Port";
const LB = "openstack:loadbalancer/loadBalancer:LoadBalancer";
const MEMBER = "openstack:loadbalancer/member:Member";
const INSTANCE = "openstack:compute/instance:Instance";
const key = (type: string, name: string) => `${type}::${name}`;

describe("the critical path", () => {
  it("follows the longest chain and sums every create for the serial time", () => {
    const graph = [
      resource(NETWORK, "net"),
      resource(PORT, "fast", [key(NETWORK, "net")]),
      resource(LB, "lb", [key(PORT, "fast")]),
      resource(PORT, "other", [key(NETWORK, "net")]),
    ];
    const path = criticalPath(graph);
    // Network 3 s, port 3 s, Octavia amphora 120 s; the other port runs beside them.
    expect(path.seconds).toBe(126);
    expect(path.serialSeconds).toBe(129);
    expect(path.chain.map((s) => s.key)).toEqual([key(NETWORK, "net"), key(PORT, "fast"), key(LB, "lb")]);
  });

  it("waits for a parent and a provider, and leaves components out of the chain", () => {
    const component = { ...resource("test:index:Group", "group"), custom: false };
    const graph = [
      resource("pulumi:providers:openstack", "os"),
      resource(NETWORK, "net", [], { providers: [key("pulumi:providers:openstack", "os")] }),
      component,
      resource(PORT, "child", [], { parent: component.key, providers: [] }),
      { ...component, key: "test:index:Group::late", name: "late", dependencies: [key(NETWORK, "net")] },
      resource(PORT, "late-child", [], { parent: "test:index:Group::late" }),
    ];
    const path = criticalPath(graph);
    expect(path.steps.get(key(PORT, "late-child"))?.start).toBe(4);
    expect(path.chain.map((s) => s.key)).toEqual([
      key("pulumi:providers:openstack", "os"),
      key(NETWORK, "net"),
      key(PORT, "late-child"),
    ]);
  });

  it("creates the members of one load balancer one at a time", () => {
    const graph = [
      resource(LB, "lb"),
      resource(MEMBER, "a", [key(LB, "lb")]),
      resource(MEMBER, "b", [key(LB, "lb")]),
      resource(MEMBER, "c", [key(LB, "lb")]),
    ];
    const path = criticalPath(graph);
    expect(path.seconds).toBe(120 + 3 * 10);
    expect(path.chain.map((s) => s.key)).toEqual([key(LB, "lb"), key(MEMBER, "a"), key(MEMBER, "b"), key(MEMBER, "c")]);
  });

  it("lets the readiness gate finish only once the first control-plane node has bootstrapped the API", () => {
    const init = resource(INSTANCE, "cp-0", [], { inputs: { userData: "path: /etc/kubeadm-bootstrap/init.yaml" } });
    const gate = resource("command:local:Command", "readyz", [init.key], {
      inputs: { environment: { API_ENDPOINT: "x", TIMEOUT_SECONDS: "900" } },
    });
    const path = criticalPath([init, gate]);
    expect(path.chain.map((s) => s.label)).toEqual([
      `${INSTANCE} cp-0`,
      "cp-0 bootstraps the API server",
      "command:local:Command readyz",
    ]);
    expect(path.seconds).toBe(60 + 240 + 5);
  });

  it("refuses a cycle", () => {
    expect(() => criticalPath([resource(PORT, "a", [key(PORT, "b")]), resource(PORT, "b", [key(PORT, "a")])])).toThrow(
      /dependency cycle/,
    );
  });
});

describe("prod's pulumi up (issue 14's target)", () => {
  it("has nothing avoidable on its critical path: at most 1.1 times the chain of unavoidable steps", async () => {
    const run = await evaluateStack("prod");
    const chain = unavoidableChain(run.resources);
    expect(chain.map((s) => s.label)).toEqual([
      "pulumi:providers:openstack openstack",
      `${NETWORK} mesh-prod-network`,
      "openstack:networking/subnet:Subnet mesh-prod-nodes",
      `${PORT} mesh-prod-control-plane-0`,
      `${INSTANCE} mesh-prod-control-plane-0`,
      "mesh-prod-control-plane-0 bootstraps the API server",
      "command:local:Command mesh-prod-cluster-readyz",
      "pulumi:providers:kubernetes mesh-prod-cluster-k8s",
      "kubernetes:helm.sh/v4:Chart calico-crds",
      "kubernetes:helm.sh/v3:Release calico",
      "kubernetes:helm.sh/v3:Release mesh-prod-istiod-1-31-1",
      "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration mesh-prod-revision-tag-default",
      "kubernetes:helm.sh/v3:Release mesh-prod-istio-ingressgateway",
      "kubernetes:core/v1:Service mesh-prod-ingress-service",
    ]);
    const unavoidable = chain.reduce((sum, step) => sum + step.seconds, 0);
    const path = criticalPath(run.resources);
    expect(path.unknown).toEqual([]);
    expect(path.seconds).toBeLessThanOrEqual(1.1 * unavoidable);
  });
});
