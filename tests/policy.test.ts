/**
 * The policy pack (policy/), rule by rule: each validateResource/validateStack is called the way the
 * engine calls it, with a fake args object and a reportViolation spy, on resources that must pass
 * and resources that must be refused. (Every real stack's graph is run through the pack in
 * tests/outputs-contract.test.ts, which evaluates each stack once for both.)
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { controlPlaneAntiAffinity, haControlPlane, prodBootFromVolume, workerFloatingIps } from "../policy/compute";
import { ambientNodeAgents, namespaceSingleDataplaneMode } from "../policy/dataplane";
import { environmentOf, stackOfUrn } from "../policy/environment";
import { helmReleasePinned, kialiNotAnonymous } from "../policy/helm";
import { meshWideStrictMtls, peerAuthenticationStrict } from "../policy/mesh";
import { noWorldOpenAdminPorts } from "../policy/network";
import { policies } from "../policy/policies";
import {
  applicationCredentialRestricted,
  applicationCredentialSecret,
  commandCredentialsNotInline,
} from "../policy/secrets";
import {
  keyMaterialProtected,
  namespacePodSecurity,
  nodesBootWithConfigDrive,
  podsDeniedMetadata,
} from "../policy/security";
import { evaluateStack, ROOT } from "./harness";
import { check, checkStack, type FakeResource, packViolations, urnOf } from "./policy-harness";

describe("the environment a policy sees", () => {
  it("comes from the stack in the URN, or from the pack's config for other stack names", () => {
    expect(stackOfUrn("urn:pulumi:staging::istio-openstack::pulumi:pulumi:Stack::x")).toBe("staging");
    expect(environmentOf(urnOf("dev", "t", "n"), {})).toBe("dev");
    expect(environmentOf(urnOf("team-a", "t", "n"), {})).toBe("unknown");
    expect(environmentOf(urnOf("team-a", "t", "n"), { environment: "dev" })).toBe("dev");
  });

  it("policy/config/<env>.json names the environment for exactly the policies that depend on it", () => {
    const environmentAware = policies.filter((p) => p.configSchema?.properties.environment).map((p) => p.name);
    for (const environment of ["dev", "staging", "prod"]) {
      const file = path.join(ROOT, "policy", "config", `${environment}.json`);
      const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, { environment: string }>;
      expect(Object.keys(config).sort()).toEqual([...environmentAware].sort());
      for (const entry of Object.values(config)) expect(entry).toEqual({ environment });
    }
  });

  it("every policy has a unique name and an enforcement level, mandatory ones first", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    const levels = policies.map((p) => p.enforcementLevel);
    expect(levels.every((l) => l === "mandatory" || l === "advisory")).toBe(true);
    expect(levels.lastIndexOf("mandatory")).toBeLessThan(levels.indexOf("advisory"));
  });
});

describe("no-world-open-admin-ports (mandatory)", () => {
  const RULE = "openstack:networking/secGroupRule:SecGroupRule";
  const rule = (props: Record<string, unknown>) => ({
    direction: "ingress",
    ethertype: "IPv4",
    protocol: "tcp",
    ...props,
  });

  it.each([
    ["SSH from the world", rule({ portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" }), ["22/tcp"]],
    [
      "the API from the IPv6 world",
      rule({ portRangeMin: 6443, portRangeMax: 6443, remoteIpPrefix: "::/0" }),
      ["6443/tcp"],
    ],
    [
      "a range covering both",
      rule({ portRangeMin: 1, portRangeMax: 10000, remoteIpPrefix: "0.0.0.0/0" }),
      ["22/tcp", "6443/tcp"],
    ],
    ["every port and protocol", { direction: "ingress", remoteIpPrefix: "0.0.0.0/0" }, ["22/tcp", "6443/tcp"]],
    ["no remote at all (Neutron admits everyone)", rule({ portRangeMin: 22, portRangeMax: 22 }), ["22/tcp"]],
  ])("refuses %s", async (_label, props, ports) => {
    const [violation, ...more] = await check(noWorldOpenAdminPorts, RULE, props);
    expect(more).toEqual([]);
    for (const port of ports) expect(violation).toContain(port);
  });

  it.each([
    ["SSH from an admin CIDR", rule({ portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "203.0.113.0/24" })],
    ["the API from a remote group", rule({ portRangeMin: 6443, portRangeMax: 6443, remoteGroupId: "sg-1" })],
    ["HTTPS from the world", rule({ portRangeMin: 443, portRangeMax: 443, remoteIpPrefix: "0.0.0.0/0" })],
    [
      "UDP 22 from the world",
      rule({ protocol: "udp", portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" }),
    ],
    ["egress to the world", rule({ direction: "egress", remoteIpPrefix: "0.0.0.0/0" })],
  ])("accepts %s", async (_label, props) => {
    expect(await check(noWorldOpenAdminPorts, RULE, props)).toEqual([]);
  });

  it("ignores other resource types", async () => {
    expect(
      await check(noWorldOpenAdminPorts, "openstack:networking/port:Port", { remoteIpPrefix: "0.0.0.0/0" }),
    ).toEqual([]);
  });
});

describe("helm-release-version-pinned (mandatory)", () => {
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  it.each(["1.31.1", "v2.14.0", "1.0.0-rc.1", "0.3.0+build.5"])("accepts the exact version %s", async (version) => {
    expect(await check(helmReleasePinned, RELEASE, { chart: "istiod", version })).toEqual([]);
  });

  it.each(["", "^1.31.0", "~1.31", "1.31.x", ">=1.0.0", "1.31", "*", "latest", "1.0.0 || 2.0.0"])(
    "refuses %j",
    async (version) => {
      expect(await check(helmReleasePinned, RELEASE, { chart: "istiod", version })).toEqual([
        expect.stringContaining('chart "istiod"'),
      ]);
    },
  );

  it("refuses a release without a version", async () => {
    expect(await check(helmReleasePinned, RELEASE, { chart: "oci://ghcr.io/istio/release/charts/base" })).toEqual([
      expect.stringMatching(/has no version/),
    ]);
  });
});

describe("kiali-not-anonymous (mandatory outside dev)", () => {
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const kiali = (strategy?: string, chart = "kiali-server") => ({
    chart,
    version: "2.14.0",
    values: strategy ? { auth: { strategy } } : {},
  });

  it.each(["staging", "prod", "team-a"])("refuses anonymous Kiali in %s", async (stack) => {
    expect(await check(kialiNotAnonymous, RELEASE, kiali("anonymous"), { stack })).toHaveLength(1);
  });

  it("refuses anonymous through the operator chart's CR values, from an OCI reference", async () => {
    const props = {
      chart: "oci://mirror.example/charts/kiali-operator",
      version: "2.14.0",
      values: { cr: { spec: { auth: { strategy: "anonymous" } } } },
    };
    expect(await check(kialiNotAnonymous, RELEASE, props, { stack: "prod" })).toHaveLength(1);
  });

  it("allows anonymous in dev, also for a stack the pack's config calls dev", async () => {
    expect(await check(kialiNotAnonymous, RELEASE, kiali("anonymous"), { stack: "dev" })).toEqual([]);
    const config = { environment: "dev" };
    expect(await check(kialiNotAnonymous, RELEASE, kiali("anonymous"), { stack: "team-a", config })).toEqual([]);
  });

  it("accepts token, openid and the chart's default in prod, and ignores other charts", async () => {
    for (const props of [kiali("token"), kiali("openid"), kiali(), { ...kiali("anonymous"), chart: "grafana" }]) {
      expect(await check(kialiNotAnonymous, RELEASE, props, { stack: "prod" })).toEqual([]);
    }
  });
});

describe("peer-authentication-strict and mesh-wide-strict-mtls (mandatory outside dev)", () => {
  const PA = "kubernetes:security.istio.io/v1:PeerAuthentication";
  const pa = (spec: Record<string, unknown>, namespace = "istio-system") => ({
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace },
    spec,
  });

  it.each([
    ["PERMISSIVE", { mtls: { mode: "PERMISSIVE" } }, /mode PERMISSIVE/],
    ["DISABLE", { mtls: { mode: "DISABLE" } }, /mode DISABLE/],
    [
      "a port-level PERMISSIVE",
      { mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } },
      /port 8080/,
    ],
  ])("refuses %s in staging", async (_label, spec, message) => {
    expect(await check(peerAuthenticationStrict, PA, pa(spec), { stack: "staging" })).toEqual([
      expect.stringMatching(message),
    ]);
  });

  it("accepts STRICT in prod, and PERMISSIVE in dev (also for the v1beta1 API)", async () => {
    expect(await check(peerAuthenticationStrict, PA, pa({ mtls: { mode: "STRICT" } }), { stack: "prod" })).toEqual([]);
    const beta = "kubernetes:security.istio.io/v1beta1:PeerAuthentication";
    expect(await check(peerAuthenticationStrict, beta, pa({ mtls: { mode: "PERMISSIVE" } }), { stack: "dev" })).toEqual(
      [],
    );
    expect(
      await check(peerAuthenticationStrict, beta, pa({ mtls: { mode: "PERMISSIVE" } }), { stack: "prod" }),
    ).toHaveLength(1);
  });

  const istiod: FakeResource = {
    type: "kubernetes:helm.sh/v3:Release",
    name: "istiod",
    props: { chart: "istiod", version: "1.31.1" },
  };
  const meshWide = (mode: string, namespace = "istio-system", selector?: object): FakeResource => ({
    type: PA,
    name: "mesh-mtls",
    props: pa({ mtls: { mode }, ...(selector ? { selector } : {}) }, namespace),
  });

  it("requires a mesh-wide STRICT default where istiod is installed outside dev", async () => {
    expect(await checkStack(meshWideStrictMtls, [istiod, meshWide("STRICT")], { stack: "prod" })).toEqual([]);
    expect(await checkStack(meshWideStrictMtls, [istiod], { stack: "prod" })).toHaveLength(1);
    expect(await checkStack(meshWideStrictMtls, [istiod, meshWide("STRICT", "apps")], { stack: "prod" })).toHaveLength(
      1,
    );
    const selected = meshWide("STRICT", "istio-system", { matchLabels: { app: "x" } });
    expect(await checkStack(meshWideStrictMtls, [istiod, selected], { stack: "staging" })).toHaveLength(1);
  });

  it("does not ask for it in dev, nor in a stack without istiod", async () => {
    expect(await checkStack(meshWideStrictMtls, [istiod], { stack: "dev" })).toEqual([]);
    expect(await checkStack(meshWideStrictMtls, [meshWide("PERMISSIVE")], { stack: "prod" })).toEqual([]);
  });
});

describe("the data plane modes (mandatory)", () => {
  const NS = "kubernetes:core/v1:Namespace";
  const namespace = (labels: Record<string, string>) => ({ metadata: { name: "shop", labels } });

  it("a namespace is ambient or injected, never both (a sidecar would win silently)", async () => {
    const both = namespace({ "istio.io/dataplane-mode": "ambient", "istio.io/rev": "prod-stable" });
    expect(await check(namespaceSingleDataplaneMode, NS, both, { stack: "dev" })).toEqual([
      expect.stringMatching(/^shop is labelled for ambient and for sidecar injection \(istio.io\/rev\)/),
    ]);
    const legacy = namespace({ "istio.io/dataplane-mode": "ambient", "istio-injection": "enabled" });
    expect(await check(namespaceSingleDataplaneMode, NS, legacy, { stack: "prod" })).toHaveLength(1);
    const fine: Record<string, string>[] = [
      { "istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint" },
      { "istio.io/rev": "prod-stable" },
      { "istio.io/dataplane-mode": "ambient", "istio-injection": "disabled" },
      { "istio.io/dataplane-mode": "none", "istio.io/rev": "prod-stable" },
    ];
    for (const labels of fine) {
      expect(await check(namespaceSingleDataplaneMode, NS, namespace(labels), { stack: "prod" })).toEqual([]);
    }
  });

  const release = (chart: string, values: Record<string, unknown> = {}): FakeResource => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: chart,
    props: { chart, version: "1.31.1", values },
  });

  it("an ambient control plane comes with its node agents, istio-cni and ztunnel", async () => {
    const ambientIstiod = release("istiod", { profile: "ambient" });
    expect(await checkStack(ambientNodeAgents, [ambientIstiod, release("cni"), release("ztunnel")])).toEqual([]);
    expect(await checkStack(ambientNodeAgents, [ambientIstiod, release("cni")])).toEqual([
      "istiod runs the ambient profile but the stack installs no ztunnel chart",
    ]);
    expect(await checkStack(ambientNodeAgents, [ambientIstiod])).toEqual([
      "istiod runs the ambient profile but the stack installs no cni and no ztunnel chart",
    ]);
    expect(await checkStack(ambientNodeAgents, [release("istiod")])).toEqual([]);
  });
});

describe("credentials stay secret (mandatory)", () => {
  const CREDENTIAL = "openstack:identity/applicationCredential:ApplicationCredential";
  const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "users:",
    "- name: admin",
    "  user:",
    "    client-certificate-data: LS0tLS1CRUdJTi==",
    "    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRF",
  ].join("\n");

  it("an application credential's secret must be a secret output", async () => {
    const props = { name: "mesh-prod-occm", roles: ["member"] };
    expect(
      await check(applicationCredentialSecret, CREDENTIAL, props, { additionalSecretOutputs: ["secret"] }),
    ).toEqual([]);
    expect(await check(applicationCredentialSecret, CREDENTIAL, props)).toEqual([expect.stringMatching(/plain text/)]);
  });

  it("a command may not carry a kubeconfig or a private key in its command line", async () => {
    const inline = { create: `echo '${KUBECONFIG}' > /tmp/k && kubectl --kubeconfig /tmp/k get ns` };
    const pem = { create: "printf '-----BEGIN EC PRIVATE KEY-----\\nMHc...' > key.pem" };
    const secretOutputs = { additionalSecretOutputs: ["stdout", "stderr"] };
    expect(await check(commandCredentialsNotInline, "command:local:Command", inline, secretOutputs)).toEqual([
      expect.stringMatching(/`create` carries/),
    ]);
    expect(await check(commandCredentialsNotInline, "command:remote:Command", pem, secretOutputs)).toHaveLength(1);
  });

  it("a command given a kubeconfig through its environment keeps stdout and stderr secret", async () => {
    const props = {
      create: 'printf "%s" "$KUBECONFIG_DATA" > "$f"; kubectl --kubeconfig "$f" get ns',
      environment: { KUBECONFIG_DATA: KUBECONFIG },
    };
    expect(
      await check(commandCredentialsNotInline, "command:local:Command", props, {
        additionalSecretOutputs: ["stdout", "stderr"],
      }),
    ).toEqual([]);
    expect(
      await check(commandCredentialsNotInline, "command:local:Command", props, { additionalSecretOutputs: ["stdout"] }),
    ).toEqual(["handles credentials but stderr not in additionalSecretOutputs"]);
  });

  it("commands without credentials (a CA certificate is public) need nothing", async () => {
    const props = {
      create: "curl --cacert ca.pem https://10.0.0.1:6443/readyz",
      stdin: "-----BEGIN CERTIFICATE-----\nMIIB",
    };
    expect(await check(commandCredentialsNotInline, "command:local:Command", props)).toEqual([]);
  });

  it("advises against unrestricted application credentials", async () => {
    expect(await check(applicationCredentialRestricted, CREDENTIAL, { unrestricted: true })).toHaveLength(1);
    expect(await check(applicationCredentialRestricted, CREDENTIAL, { unrestricted: false })).toEqual([]);
    expect(applicationCredentialRestricted.enforcementLevel).toBe("advisory");
  });
});

describe("nodes", () => {
  const INSTANCE = "openstack:compute/instance:Instance";
  const GROUP = "openstack:compute/serverGroup:ServerGroup";
  const group = (name: string, policy: string): FakeResource => ({
    type: GROUP,
    name,
    props: { name, policies: [policy] },
  });
  const node = (name: string, role: string, groupName?: string, extra: Record<string, unknown> = {}): FakeResource => ({
    type: INSTANCE,
    name,
    props: {
      name,
      metadata: { role },
      schedulerHints: groupName ? [{ group: "(unknown during preview)" }] : [],
      ...extra,
    },
    deps: { ...(groupName ? { schedulerHints: [groupName] } : {}), networks: [`${name}-port`] },
  });
  const port = (name: string): FakeResource => ({ type: "openstack:networking/port:Port", name, props: { name } });
  const controlPlane = (policy: string) => [
    group("cp-group", policy),
    ...[0, 1, 2].flatMap((i) => [port(`cp-${i}-port`), node(`cp-${i}`, "control-plane", "cp-group")]),
  ];

  it("prod control-plane nodes must share an anti-affinity or soft-anti-affinity server group", async () => {
    expect(await checkStack(controlPlaneAntiAffinity, controlPlane("anti-affinity"))).toEqual([]);
    expect(await checkStack(controlPlaneAntiAffinity, controlPlane("soft-anti-affinity"))).toEqual([]);
    const affine = await checkStack(controlPlaneAntiAffinity, controlPlane("affinity"));
    expect(affine).toEqual(
      [0, 1, 2].map((i) => expect.stringContaining(`cp-${i} is in a server group with policies [affinity]`)),
    );
  });

  it("a control-plane node outside any server group is refused; workers are not its concern", async () => {
    const loose = [port("cp-0-port"), node("cp-0", "control-plane"), port("w-0-port"), node("w-0", "worker")];
    expect(await checkStack(controlPlaneAntiAffinity, loose)).toEqual([
      "control-plane node cp-0 is in no server group",
    ]);
  });

  it("joins by server-group id once ids are known (after an update)", async () => {
    const known: FakeResource[] = [
      { type: GROUP, name: "cp-group", props: { id: "sg-42", policies: ["affinity"] } },
      {
        type: INSTANCE,
        name: "cp-0",
        props: { metadata: { role: "control-plane" }, schedulerHints: [{ group: "sg-42" }] },
      },
    ];
    expect(await checkStack(controlPlaneAntiAffinity, known)).toEqual([expect.stringContaining("[affinity]")]);
  });

  it("does not apply in dev or staging", async () => {
    for (const stack of ["dev", "staging"]) {
      expect(await checkStack(controlPlaneAntiAffinity, controlPlane("affinity"), { stack })).toEqual([]);
    }
  });

  it("advises against floating IPs on workers (not on the control plane's API address)", async () => {
    const fip = (name: string, portName: string): FakeResource => ({
      type: "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
      name,
      props: { floatingIp: "198.51.100.7" },
      deps: { portId: [portName] },
    });
    const graph = [
      port("w-0-port"),
      node("w-0", "worker"),
      port("w-1-port"),
      node("w-1", "worker"),
      port("cp-0-port"),
      node("cp-0", "control-plane"),
    ];
    expect(
      await checkStack(workerFloatingIps, [...graph, fip("w-0-fip", "w-0-port"), fip("api", "cp-0-port")]),
    ).toEqual([expect.stringContaining("worker w-0 has a floating IP")]);
    expect(await checkStack(workerFloatingIps, [...graph, fip("api", "cp-0-port")])).toEqual([]);
    expect(workerFloatingIps.enforcementLevel).toBe("advisory");
  });

  it("advises a 3-node control plane outside dev", async () => {
    const single = [
      port("cp-0-port"),
      node("cp-0", "control-plane", "cp-group"),
      group("cp-group", "soft-anti-affinity"),
    ];
    expect(await checkStack(haControlPlane, single, { stack: "staging" })).toHaveLength(1);
    expect(await checkStack(haControlPlane, single, { stack: "dev" })).toEqual([]);
    expect(await checkStack(haControlPlane, controlPlane("anti-affinity"), { stack: "prod" })).toEqual([]);
  });

  it("advises booting prod nodes from a volume", async () => {
    const fromVolume = {
      metadata: { role: "worker" },
      blockDevices: [{ sourceType: "image", destinationType: "volume", bootIndex: 0, volumeSize: 50 }],
    };
    const ephemeral = (role: string) => ({ imageName: "ubuntu-24.04", metadata: { role } });
    expect(await check(prodBootFromVolume, INSTANCE, ephemeral("worker"), { stack: "prod" })).toEqual([
      "boots from the flavor's ephemeral disk: a hypervisor loss loses the node's disk",
    ]);
    expect(await check(prodBootFromVolume, INSTANCE, ephemeral("control-plane"), { stack: "prod" })).toEqual([
      expect.stringMatching(/loses the node's disk and its etcd member$/),
    ]);
    expect(await check(prodBootFromVolume, INSTANCE, fromVolume, { stack: "prod" })).toEqual([]);
    expect(await check(prodBootFromVolume, INSTANCE, { imageName: "ubuntu-24.04" }, { stack: "staging" })).toEqual([]);
  });
});

describe("the cluster's keys out of reach (policy/security.ts, mandatory)", () => {
  const INSTANCE_TYPE = "openstack:compute/instance:Instance";
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const calicoRelease = {
    type: RELEASE,
    name: "calico",
    props: { chart: "tigera-operator", namespace: "tigera-operator" },
  };
  const tier = (defaultAction: string) => ({
    type: "kubernetes:crd.projectcalico.org/v1:Tier",
    name: "tier",
    props: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "Tier",
      metadata: { name: "guard" },
      spec: { defaultAction },
    },
  });
  const policy = (nets: string[], action = "Deny", tierName = "guard") => ({
    type: "kubernetes:crd.projectcalico.org/v1:GlobalNetworkPolicy",
    name: "gnp",
    props: {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "GlobalNetworkPolicy",
      metadata: { name: `${tierName}.deny` },
      spec: { tier: tierName, types: ["Egress"], egress: [{ action, destination: { nets } }] },
    },
  });

  it("pods-denied-metadata: a Pass tier with a policy denying 169.254.169.254 wherever Calico is installed", async () => {
    const guarded = [calicoRelease, tier("Pass"), policy(["169.254.169.254/32"])];
    expect(await checkStack(podsDeniedMetadata, guarded, { stack: "dev" })).toEqual([]);
    for (const broken of [
      [calicoRelease],
      [calicoRelease, tier("Pass"), policy(["10.0.0.0/8"])],
      [calicoRelease, tier("Pass"), policy(["169.254.169.254/32"], "Allow")],
      // A Deny tier would drop every other egress; a policy in a tier that is not there guards nothing.
      [calicoRelease, tier("Deny"), policy(["169.254.169.254/32"])],
      [calicoRelease, tier("Pass"), policy(["169.254.169.254/32"], "Deny", "other")],
    ]) {
      expect(await checkStack(podsDeniedMetadata, broken, { stack: "dev" })).toEqual([
        expect.stringMatching(/any pod can read the nodes' user data/),
      ]);
    }
    // An existing cluster's CNI is not the program's.
    expect(await checkStack(podsDeniedMetadata, [], { stack: "prod" })).toEqual([]);
  });

  it("nodes-config-drive: required outside dev", async () => {
    expect(await check(nodesBootWithConfigDrive, INSTANCE_TYPE, { configDrive: true }, { stack: "prod" })).toEqual([]);
    expect(await check(nodesBootWithConfigDrive, INSTANCE_TYPE, { configDrive: false }, { stack: "prod" })).toEqual([
      expect.stringMatching(/without a config drive/),
    ]);
    expect(await check(nodesBootWithConfigDrive, INSTANCE_TYPE, {}, { stack: "staging" })).toHaveLength(1);
    expect(await check(nodesBootWithConfigDrive, INSTANCE_TYPE, { configDrive: false }, { stack: "dev" })).toEqual([]);
  });

  it("key-material-protected: CA keys and certificates, the encryption key protected outside dev", async () => {
    for (const type of [
      "tls:index/privateKey:PrivateKey",
      "tls:index/selfSignedCert:SelfSignedCert",
      "random:index/randomBytes:RandomBytes",
    ]) {
      expect(await check(keyMaterialProtected, type, {}, { stack: "prod", protect: true })).toEqual([]);
      expect(await check(keyMaterialProtected, type, {}, { stack: "prod" })).toEqual([
        expect.stringMatching(/not protected/),
      ]);
      expect(await check(keyMaterialProtected, type, {}, { stack: "dev" })).toEqual([]);
    }
    expect(
      await check(keyMaterialProtected, "tls:index/locallySignedCert:LocallySignedCert", {}, { stack: "prod" }),
    ).toEqual([]);
  });

  it("namespace-pod-security: every namespace labelled; privileged outside dev only where a node agent runs", async () => {
    const ns = (name: string, level?: string) => ({
      type: "kubernetes:core/v1:Namespace",
      name,
      props: { metadata: { name, labels: level ? { "pod-security.kubernetes.io/enforce": level } : {} } },
    });
    const cni = { type: RELEASE, name: "istio-cni", props: { chart: "cni", namespace: "istio-system" } };
    expect(
      await checkStack(namespacePodSecurity, [ns("istio-system", "privileged"), cni, ns("shop", "baseline")]),
    ).toEqual([]);
    expect(await checkStack(namespacePodSecurity, [ns("shop", "privileged")], { stack: "prod" })).toEqual([
      expect.stringMatching(/namespace shop enforces privileged in a prod stack.*istioCni: true/),
    ]);
    expect(await checkStack(namespacePodSecurity, [ns("shop", "privileged")], { stack: "dev" })).toEqual([]);
    expect(await checkStack(namespacePodSecurity, [ns("shop")], { stack: "dev" })).toEqual([
      expect.stringMatching(/has no pod-security.kubernetes.io\/enforce label/),
    ]);
  });

  it("catches each of them turned off by mistake in a prod stack's config", async () => {
    const run = await evaluateStack("prod", {
      configDrive: false,
      protectResources: false,
      istioCni: false,
      meshNamespaces: { shop: "prod-stable" },
    });
    const violations = await packViolations(run.resources, "prod");
    expect(violations.filter((v) => v.startsWith("nodes-config-drive"))).toHaveLength(run.ofType(INSTANCE_TYPE).length);
    expect(violations.filter((v) => v.startsWith("key-material-protected")).length).toBeGreaterThanOrEqual(9);
    expect(violations.filter((v) => v.startsWith("namespace-pod-security"))).toEqual([
      expect.stringMatching(/namespace shop.*enforces privileged/),
    ]);
  });
});
