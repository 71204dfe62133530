import type { RecordedResource } from "../tools/mocks";
import { type Evaluation, evaluateStack } from "./harness";

const INSTANCE = "openstack:compute/instance:Instance";
const SERVER_GROUP = "openstack:compute/serverGroup:ServerGroup";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const PORT = "openstack:networking/port:Port";
const LOAD_BALANCER = "openstack:loadbalancer/loadBalancer:LoadBalancer";

function serverGroupIdOf(instance: RecordedResource): unknown {
  return (instance.inputs.schedulerHints as { group: string }[])[0].group;
}

describe.each([
  ["dev", 1, 2],
  ["staging", 3, 3],
  ["prod", 3, 3],
])("the %s stack's cluster layer", (stack, controlPlanes, workers) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack);
  });

  it("creates one Nova instance per node, each on its own port in its pool's server group", () => {
    const instances = run.ofType(INSTANCE);
    expect(instances).toHaveLength(controlPlanes + workers);
    const groups = run.ofType(SERVER_GROUP);
    expect(groups.map((g) => g.name).sort()).toEqual([`mesh-${stack}-control-plane`, `mesh-${stack}-general`]);
    const byPool = new Map<string, unknown[]>();
    for (const instance of instances) {
      const pool = (instance.inputs.metadata as { pool: string }).pool;
      byPool.set(pool, [...(byPool.get(pool) ?? []), serverGroupIdOf(instance)]);
    }
    // Every node of a pool shares one group, and no two pools share one.
    for (const ids of byPool.values()) expect(new Set(ids).size).toBe(1);
    expect(new Set([...byPool.values()].map((ids) => ids[0])).size).toBe(byPool.size);
    const ports = new Set(instances.map((i) => (i.inputs.networks as { port: string }[])[0].port));
    expect(ports.size).toBe(instances.length);
  });

  it("never rebuilds a running node for a new template or image", () => {
    for (const instance of run.ofType(INSTANCE)) {
      expect(instance.options.ignoreChanges).toEqual(expect.arrayContaining(["userData", "imageName", "imageId"]));
    }
  });

  it("orders the Kubernetes provider after the readiness gate, and the gate after every node", () => {
    const gate = run.one("command:local:Command", `mesh-${stack}-cluster-readyz`);
    const provider = run.one("pulumi:providers:kubernetes", `mesh-${stack}-cluster-k8s`);
    expect(provider.dependsOn).toContain(gate.key);
    expect(gate.dependsOn).toEqual(
      expect.arrayContaining([
        `istio-openstack:compute:NodePool::mesh-${stack}-control-plane`,
        `istio-openstack:compute:NodePool::mesh-${stack}-general`,
        `istio-openstack:endpoint:ApiEndpoint::mesh-${stack}-api`,
      ]),
    );
    // Every add-on release goes through that provider.
    const addons = run.ofType(RELEASE).filter((r) => r.parent?.includes("ClusterAddons"));
    expect(addons.map((r) => r.name)).toEqual([
      "calico",
      "openstack-cloud-controller-manager",
      "openstack-cinder-csi",
      "kubelet-csr-approver",
    ]);
    for (const release of addons) expect(release.provider).toMatch(new RegExp(`mesh-${stack}-cluster-k8s::`));
    expect(run.one("kubernetes:helm.sh/v4:Chart", "calico-crds").provider).toMatch(
      new RegExp(`mesh-${stack}-cluster-k8s::`),
    );
  });

  it("installs each add-on after what it really needs: Calico and OCCM side by side, Cinder CSI after both", () => {
    const crds = run.one("kubernetes:helm.sh/v4:Chart", "calico-crds");
    const [calico, occm, cinder] = ["calico", "openstack-cloud-controller-manager", "openstack-cinder-csi"].map(
      (name) => run.one(RELEASE, name),
    );
    const releases = new Set([crds, calico, occm, cinder].map((r) => r.key));
    const onReleases = (r: RecordedResource) => r.dependencies.filter((d) => releases.has(d));
    expect(onReleases(crds)).toEqual([]);
    expect(onReleases(calico)).toEqual([crds.key]);
    // OCCM runs on the host network and tolerates the not-ready taint: it initialises nodes before the CNI runs.
    expect(onReleases(occm)).toEqual([]);
    expect((occm.inputs.values as { tolerations: unknown[] }).tolerations).toContainEqual({
      key: "node.kubernetes.io/not-ready",
      operator: "Exists",
      effect: "NoSchedule",
    });
    // Its pods need the pod network and initialised nodes, and it mounts OCCM's cloud-config Secret.
    expect(onReleases(cinder).sort()).toEqual([calico.key, occm.key].sort());
  });

  it("keeps kubeconfig, user data and the application credential secret", () => {
    expect(run.secretOutputs).toContain("kubeconfig");
    for (const instance of run.ofType(INSTANCE)) expect(instance.secretInputs).toContain("userData");
    const occm = run.one(RELEASE, "openstack-cloud-controller-manager");
    expect(occm.secretInputs).toContain("values");
  });
});

describe("the API endpoint", () => {
  it("HA: an Octavia TCP 6443 listener with a health-checked pool, one member per control-plane port, a floating IP on the VIP", async () => {
    const run = await evaluateStack("prod");
    const listener = run.one("openstack:loadbalancer/listener:Listener", "mesh-prod-api");
    // The router's gateway address, as Neutron reports it: nodes' calls to the floating IP arrive from there.
    const router = run.computedOutputs["openstack:networking/router:Router::mesh-prod-router"] as {
      externalFixedIps: { ipAddress: string }[];
    };
    expect(listener.inputs).toMatchObject({
      protocol: "TCP",
      protocolPort: 6443,
      // Octavia's order (sorted, unique): any other order is a perpetual diff (found by e2e:openstack).
      allowedCidrs: ["10.40.0.0/22", "203.0.113.0/24", `${router.externalFixedIps[0].ipAddress}/32`].sort(),
    });
    const monitor = run.one("openstack:loadbalancer/monitor:Monitor", "mesh-prod-api");
    expect(monitor.inputs).toMatchObject({ type: "HTTPS", urlPath: "/readyz" });
    const members = run.ofType("openstack:loadbalancer/member:Member");
    const ports = run.ofType("openstack:networking/port:Port").filter((p) => p.name.includes("control-plane"));
    expect(members).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(ports.map((p) => p.name).sort());
    for (const member of members) expect(member.inputs.protocolPort).toBe(6443);
    const association = run.one("openstack:networking/floatingIpAssociate:FloatingIpAssociate", "mesh-prod-api");
    // Not before the subnet reaches the router: Neutron refuses the association otherwise.
    expect(association.dependsOn).toContain(
      "openstack:networking/routerInterface:RouterInterface::mesh-prod-router-nodes",
    );
    expect(run.outputs.apiEndpoint).toMatch(/^https:\/\/198\.51\.100\.\d+:6443$/);
  });

  it("HA: the VIP is a port created first and given to Octavia, so the nodes boot while Octavia builds the load balancer", async () => {
    const run = await evaluateStack("prod");
    const vip = run.one(PORT, "mesh-prod-api-vip");
    const loadBalancer = run.one(LOAD_BALANCER, "mesh-prod-api");
    expect(loadBalancer.inputDependencies.vipPortId).toEqual([vip.key]);
    expect(vip.options.protect).toBe(true);
    const vipAddress = (run.computedOutputs[vip.key].allFixedIps as string[])[0];
    for (const instance of run.ofType(INSTANCE)) {
      // What a node boots with carries the VIP (a certificate SAN), never anything Octavia computes.
      expect(instance.inputDependencies.userData).toContain(vip.key);
      expect(instance.dependencies).not.toContain(loadBalancer.key);
    }
    const init = run.ofType(INSTANCE).find((i) => String(i.inputs.userData).includes("/init.yaml"));
    expect(init?.inputs.userData).toContain(vipAddress);
    const association = run.one("openstack:networking/floatingIpAssociate:FloatingIpAssociate", "mesh-prod-api");
    expect(association.inputDependencies.portId).toEqual([vip.key]);
    // The readiness gate still waits for the whole endpoint: listener, pool, monitor and members.
    const gate = run.one("command:local:Command", "mesh-prod-cluster-readyz");
    for (const r of run.resources.filter((r) => r.parent === "istio-openstack:endpoint:ApiEndpoint::mesh-prod-api")) {
      expect(gate.dependencies).toContain(r.key);
    }
  });

  it("single node: the floating IP goes on the control-plane port, no load balancer", async () => {
    const run = await evaluateStack("dev");
    expect(run.ofType("openstack:loadbalancer/loadBalancer:LoadBalancer")).toHaveLength(0);
    const association = run.one(
      "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
      "mesh-dev-control-plane-0",
    );
    expect(association.inputs.portId).toMatch(/^[0-9a-f-]{36}$/);
    expect(association.dependsOn).toContain(
      "openstack:networking/routerInterface:RouterInterface::mesh-dev-router-nodes",
    );
  });
});

describe("cluster modes", () => {
  it("openstack-only deploys the OpenStack layer without tls, random or command resources and without Kubernetes", async () => {
    const run = await evaluateStack("staging", { clusterMode: "openstack-only", keystoneUrl: undefined });
    const types = new Set(run.resources.map((r) => r.type.split(":")[0]));
    expect([...types].filter((t) => ["tls", "random", "command", "kubernetes"].includes(t))).toEqual([]);
    expect(run.ofType(INSTANCE)).toHaveLength(6);
    expect(run.ofType("openstack:identity/applicationCredential:ApplicationCredential")).toHaveLength(1);
    expect(run.outputs.kubeconfig).toBeNull();
  });

  it("existing: the mesh goes onto a given cluster; nothing is built on OpenStack", async () => {
    const run = await evaluateStack(
      "dev",
      { clusterMode: "existing", existingKubeconfig: "apiVersion: v1\nkind: Config\n", keystoneUrl: undefined },
      { secretKeys: ["existingKubeconfig"] },
    );
    expect(run.resources.filter((r) => r.type.startsWith("openstack:"))).toHaveLength(0);
    const provider = run.one("pulumi:providers:kubernetes", "existing-cluster");
    expect(provider.secretInputs).toContain("kubeconfig");
    expect(run.secretOutputs).toContain("kubeconfig");
  });

  it("existing mode refuses a kubeconfig that was not set as a secret", async () => {
    await expect(
      evaluateStack("dev", { clusterMode: "existing", existingKubeconfig: "apiVersion: v1\n", keystoneUrl: undefined }),
    ).rejects.toThrow(/istio-openstack:existingKubeconfig: must be set as a secret/);
  });
});

describe("the in-cluster cloud provider's credential and Keystone", () => {
  const CREDENTIAL = "openstack:identity/applicationCredential:ApplicationCredential";
  const cloudConfig = (run: Evaluation) =>
    (
      run.one(RELEASE, "openstack-cloud-controller-manager").inputs.values as {
        cloudConfig: { global: Record<string, string> };
      }
    ).cloudConfig.global;
  const cinderAnnotations = (run: Evaluation) => {
    const values = run.one(RELEASE, "openstack-cinder-csi").inputs.values as {
      csi: { plugin: Record<"nodePlugin" | "controllerPlugin", { podAnnotations: Record<string, string> }> };
    };
    return [values.csi.plugin.nodePlugin.podAnnotations, values.csi.plugin.controllerPlugin.podAnnotations];
  };

  it("creates a credential restricted to the roles the cloud provider needs, and hands its id to Cinder CSI's pods", async () => {
    const run = await evaluateStack("prod");
    const credential = run.one(CREDENTIAL, "mesh-prod-cloud-provider");
    expect(credential.inputs).toMatchObject({
      name: "mesh-prod-cloud-provider",
      roles: ["member", "load-balancer_member"],
      unrestricted: false,
    });
    const id = cloudConfig(run)["application-credential-id"];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // A rotated credential changes the annotation, which restarts the pods (the chart does not).
    for (const annotations of cinderAnnotations(run)) {
      expect(annotations).toEqual({ "istio-openstack.io/cloud-credential-id": id });
    }
  });

  it("rotates it by generation: a new name under the same URN, so pulumi up creates the new one before deleting the old", async () => {
    const run = await evaluateStack("prod", { cloudProviderCredentialGeneration: 2, cloudProviderRoles: ["member"] });
    expect(run.one(CREDENTIAL, "mesh-prod-cloud-provider").inputs).toMatchObject({
      name: "mesh-prod-cloud-provider-2",
      roles: ["member"],
    });
  });

  it("uses a given credential and creates none; its secret stays a secret", async () => {
    const given = { id: "0123456789abcdef0123456789abcdef", secret: "given-secret" };
    const run = await evaluateStack(
      "prod",
      { cloudProviderCredential: given },
      { secretKeys: ["cloudProviderCredential"] },
    );
    expect(run.ofType(CREDENTIAL)).toHaveLength(0);
    expect(cloudConfig(run)).toMatchObject({
      "application-credential-id": given.id,
      "application-credential-secret": given.secret,
    });
    expect(run.one(RELEASE, "openstack-cloud-controller-manager").secretInputs).toContain("values");
    for (const annotations of cinderAnnotations(run)) {
      expect(annotations).toEqual({ "istio-openstack.io/cloud-credential-id": given.id });
    }
  });

  it("takes Keystone and the region from the deployer's OS_* variables when the stack gives none", async () => {
    process.env.OS_AUTH_URL = "https://identity.example.net/v3";
    process.env.OS_REGION_NAME = "RegionTwo";
    try {
      const run = await evaluateStack("dev", { keystoneUrl: undefined });
      expect(cloudConfig(run)).toMatchObject({ "auth-url": "https://identity.example.net/v3", region: "RegionTwo" });
    } finally {
      delete process.env.OS_AUTH_URL;
      delete process.env.OS_REGION_NAME;
    }
  });
});

describe("Calico's MTU follows the node network's", () => {
  const calicoMtu = (run: Evaluation) =>
    (run.one(RELEASE, "calico").inputs.values as { installation: { calicoNetwork: { mtu: number } } }).installation
      .calicoNetwork.mtu;

  it("a network the program creates: networkMtu minus the VXLAN header", async () => {
    expect(calicoMtu(await evaluateStack("dev", { networkMtu: 9000 }))).toBe(8950);
    expect(calicoMtu(await evaluateStack("dev"))).toBe(1400);
  });

  it("a bring-your-own network: its own MTU as Neutron reports it, not a default", async () => {
    const [network, subnet, router] = [
      "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
      "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
      "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    ];
    const run = await evaluateStack(
      "dev",
      { networkMode: "existing", existingNetworkId: network, existingSubnetId: subnet, existingRouterId: router },
      { fixtures: { subnets: { [subnet]: { cidr: "10.20.0.0/22" } }, networks: { [network]: { mtu: 1400 } } } },
    );
    expect(calicoMtu(run)).toBe(1350);
  });
});

describe("Calico's CRDs", () => {
  it("are applied server-side by the provider (helm.v4.Chart), with no Helm release record, before the operator", async () => {
    const run = await evaluateStack("prod");
    const releasesOfCrdChart = run
      .ofType(RELEASE)
      .filter(
        (r) =>
          r.inputs.chart === "crd.projectcalico.org.v1" || String(r.inputs.chart).endsWith("/crd.projectcalico.org.v1"),
      );
    expect(releasesOfCrdChart).toEqual([]);
    const crds = run.one("kubernetes:helm.sh/v4:Chart", "calico-crds");
    expect(crds.inputs).toMatchObject({ chart: "crd.projectcalico.org.v1", version: "v3.32.4" });
    expect(crds.inputs).not.toHaveProperty("skipCrds");
    // The cluster's provider applies server-side.
    const provider = run.one("pulumi:providers:kubernetes", "mesh-prod-cluster-k8s");
    expect(String(provider.inputs.enableServerSideApply)).toBe("true");
    expect(run.one(RELEASE, "calico").dependsOn).toContain(crds.key);
  });

  it("need server-side apply: the largest is past client-side apply's annotation limit, and fits a Kubernetes object", () => {
    const { readdirSync, readFileSync } = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    const { parseAllDocuments } = require("yaml") as typeof import("yaml");
    const dir = path.join(__dirname, "..", "..", "shared", "charts", "crd.projectcalico.org.v1", "crds");
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml"));
    const sizes = files.flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(dir, file), "utf8"))
        .map((document) => document.toJSON() as unknown)
        .filter(Boolean)
        .map((crd) => JSON.stringify(crd).length),
    );
    const largest = Math.max(...sizes);
    // kubectl's client-side apply stores the whole object in an annotation, limited to 256 KiB.
    expect(largest).toBeGreaterThan(256 * 1024);
    // etcd accepts requests up to 1.5 MiB: room left for server-side apply's managed fields.
    expect(largest).toBeLessThan(1024 * 1024);
  });
});

describe("the cloud's load-balancer service (loadBalancerProvider)", () => {
  const occmLoadBalancer = (run: Evaluation) =>
    (
      run.one(RELEASE, "openstack-cloud-controller-manager").inputs.values as {
        cloudConfig: { loadBalancer: Record<string, unknown> };
      }
    ).cloudConfig.loadBalancer;
  const gatewayService = (run: Evaluation) =>
    (
      run.one(RELEASE, `${run.config.clusterName}-istio-ingressgateway`).inputs.values as {
        service: Record<string, unknown>;
      }
    ).service;

  it("ovn: an API load balancer with only what the OVN provider supports, OCCM told so, the gateway on fixed NodePorts", async () => {
    const run = await evaluateStack("prod", { loadBalancerProvider: "ovn" });
    expect(run.one("openstack:loadbalancer/loadBalancer:LoadBalancer", "mesh-prod-api").inputs).toMatchObject({
      loadbalancerProvider: "ovn",
    });
    const listener = run.one("openstack:loadbalancer/listener:Listener", "mesh-prod-api").inputs;
    for (const unsupported of ["allowedCidrs", "timeoutClientData", "timeoutMemberData"]) {
      expect(listener).not.toHaveProperty(unsupported);
    }
    expect(run.one("openstack:loadbalancer/pool:Pool", "mesh-prod-api").inputs.lbMethod).toBe("SOURCE_IP_PORT");
    expect(run.one("openstack:loadbalancer/monitor:Monitor", "mesh-prod-api").inputs).toMatchObject({ type: "TCP" });
    expect(occmLoadBalancer(run)).toMatchObject({ "lb-provider": "ovn", "lb-method": "SOURCE_IP_PORT" });
    const service = gatewayService(run);
    expect(service.type).toBe("LoadBalancer");
    expect(service.ports).toEqual([
      { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
      { name: "http2", port: 80, protocol: "TCP", targetPort: 80, nodePort: 30080 },
      { name: "https", port: 443, protocol: "TCP", targetPort: 443, nodePort: 30443 },
    ]);
  });

  it("none: no Octavia asked for anything; the gateway is a NodePort Service; the credential needs no Octavia role", async () => {
    const run = await evaluateStack("dev", { loadBalancerProvider: "none" });
    expect(run.ofType("openstack:loadbalancer/loadBalancer:LoadBalancer")).toHaveLength(0);
    expect(occmLoadBalancer(run)).toEqual({ enabled: false });
    expect(gatewayService(run)).toMatchObject({ type: "NodePort" });
    expect(gatewayService(run)).not.toHaveProperty("loadBalancerSourceRanges");
    expect(
      run.one("openstack:identity/applicationCredential:ApplicationCredential", "mesh-dev-cloud-provider").inputs.roles,
    ).toEqual(["member"]);
  });

  it("none with Gateway API: the generated Service is a NodePort one with the fixed ports", async () => {
    const run = await evaluateStack("dev", { loadBalancerProvider: "none", ingressApi: "gateway-api" });
    const gateway = run.one(
      "kubernetes:gateway.networking.k8s.io/v1:Gateway",
      "mesh-dev-gateway-istio-ingress-ingress",
    );
    expect((gateway.inputs.metadata as { annotations: Record<string, string> }).annotations).toMatchObject({
      "networking.istio.io/service-type": "NodePort",
    });
    const parameters = run.one("kubernetes:core/v1:ConfigMap", "mesh-dev-gateway-parameters-istio-ingress-ingress");
    expect((parameters.inputs.data as Record<string, string>).service).toMatch(/port: 80\n\s+nodePort: 30080/);
  });
});
