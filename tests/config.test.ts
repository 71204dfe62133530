import * as runtimeErrors from "@pulumi/pulumi/cmd/run/error";
import { RunError } from "@pulumi/pulumi/errors";
import fc from "fast-check";
import { ConfigError } from "../stacks/errors";
import { configKeys } from "../stacks/keys";
import { parseStackConfig } from "../stacks/load";
import { rawConfig } from "./harness";

/** How the runtime prints any error that is not a RunError (marked internal, so untyped). */
const { defaultErrorMessage } = runtimeErrors as unknown as { defaultErrorMessage: (error: unknown) => string };

/** The validation message for a config, or a failure if it was accepted. */
function refusal(stack: string, overrides: Record<string, unknown>, secretKeys: string[] = []): string {
  try {
    parseStackConfig(rawConfig(stack, overrides, secretKeys), stack);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`stack ${stack} accepted ${JSON.stringify(overrides)}`);
}

describe("every committed stack is valid", () => {
  it.each(["dev", "staging", "prod"])("%s", (stack) => {
    const config = parseStackConfig(rawConfig(stack), stack);
    expect(config.environment).toBe(stack);
  });

  it("dev is small, prod highly available and locked down", () => {
    const dev = parseStackConfig(rawConfig("dev"), "dev");
    const prod = parseStackConfig(rawConfig("prod"), "prod");
    expect(dev.controlPlaneCount).toBe(1);
    expect(prod.controlPlaneCount).toBe(3);
    expect(prod.controlPlaneServerGroupPolicy).toBe("anti-affinity");
    expect(prod.protectResources).toBe(true);
    expect(dev.protectResources).toBe(false);
  });
});

describe("bad configuration is refused with the key named", () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    [
      "malformed CIDR",
      "dev",
      { nodeCidr: "10.20.0.0/33" },
      /istio-openstack:nodeCidr: expected an IPv4 CIDR.*"10\.20\.0\.0\/33"/,
    ],
    [
      "host bits set",
      "dev",
      { podCidr: "10.244.1.0/16" },
      /istio-openstack:podCidr: expected an IPv4 CIDR with no host bits/,
    ],
    [
      "pod range overlapping the nodes",
      "dev",
      { podCidr: "10.20.0.0/16" },
      /istio-openstack:podCidr: must not overlap nodeCidr/,
    ],
    [
      "service range overlapping pods",
      "dev",
      { serviceCidr: "10.244.128.0/20" },
      /istio-openstack:serviceCidr: must not overlap podCidr/,
    ],
    [
      "even control plane",
      "dev",
      { controlPlaneCount: 2 },
      /istio-openstack:controlPlaneCount: expected 1, 3 or 5.*\(got 2\)/,
    ],
    ["MTU too small", "dev", { networkMtu: 1200 }, /istio-openstack:networkMtu: must be at least 1280.*\(got 1200\)/],
    ["MTU too large", "dev", { networkMtu: 9001 }, /istio-openstack:networkMtu: must be at most 9000/],
    [
      "an HA control plane without Octavia",
      "staging",
      { loadBalancerProvider: "none" },
      /istio-openstack:controlPlaneCount: more than one control-plane node puts the API behind a load balancer, which loadBalancerProvider none cannot give/,
    ],
    [
      "PROXY protocol through OVN",
      "prod",
      { loadBalancerProvider: "ovn", ingressGatewayProxyProtocol: true },
      /istio-openstack:ingressGatewayProxyProtocol: needs an Octavia provider that speaks PROXY \(amphora\); the OVN provider does not/,
    ],
    [
      "a gateway floating IP without a load balancer",
      "dev",
      { loadBalancerProvider: "none", ingressGatewayFloatingIp: "198.51.100.9" },
      /istio-openstack:ingressGatewayFloatingIp: is the gateway load balancer's address; with loadBalancerProvider none there is none/,
    ],
    [
      "an MTU for a network the program does not create",
      "dev",
      {
        networkMode: "existing",
        existingNetworkId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
        existingSubnetId: "5c0b1f9e-7a2d-4e8b-9c3f-1d2e3f4a5b6c",
        existingRouterId: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        networkMtu: 1450,
      },
      /istio-openstack:networkMtu: only used when networkMode is create: an existing network's MTU is its own/,
    ],
    [
      "integer given as text",
      "dev",
      { controlPlaneCount: "three" },
      /istio-openstack:controlPlaneCount: .*\(got "three"\)/,
    ],
    [
      "boolean given as text",
      "dev",
      { allowWorldOpenAdminCidr: "yes" },
      /istio-openstack:allowWorldOpenAdminCidr: .*boolean.*\(got "yes"\)/,
    ],
    ["list given as text", "dev", { adminCidrs: "10.0.0.0/8" }, /istio-openstack:adminCidrs: .*array/],
    [
      "empty required string",
      "dev",
      { controlPlaneFlavor: "  " },
      /istio-openstack:controlPlaneFlavor: must not be empty/,
    ],
    [
      "unknown key with a suggestion",
      "dev",
      { contolPlaneCount: 3 },
      /istio-openstack:contolPlaneCount: unknown key.*did you mean controlPlaneCount\?/,
    ],
    [
      "floating version",
      "dev",
      { kubernetesVersion: "latest" },
      /istio-openstack:kubernetesVersion: expected an exact version.*\(got "latest"\)/,
    ],
    [
      "partial version",
      "dev",
      { kubernetesVersion: "1.33" },
      /istio-openstack:kubernetesVersion: expected an exact version/,
    ],
    [
      "world-open admin CIDR in staging",
      "staging",
      { adminCidrs: ["0.0.0.0/0"] },
      /istio-openstack:adminCidrs\[0\]: opens the Kubernetes API and SSH to the whole internet, refused in staging/,
    ],
    [
      "world-open admin CIDR in prod",
      "prod",
      { adminCidrs: ["10.1.0.0/16", "0.0.0.0/0"] },
      /istio-openstack:adminCidrs\[1\]: .*refused in prod/,
    ],
    ["no admin CIDR", "dev", { adminCidrs: undefined }, /istio-openstack:adminCidrs: required/],
    [
      "existing mode without ids",
      "dev",
      { networkMode: "existing" },
      /istio-openstack:existingNetworkId: required when networkMode is existing[\s\S]*istio-openstack:existingSubnetId: required[\s\S]*istio-openstack:existingRouterId: required/,
    ],
    [
      "existing ids in create mode",
      "dev",
      { existingSubnetId: "9b6f2c1e-0d4a-4c8e-9f3b-2a1d5e7c8b90" },
      /istio-openstack:existingSubnetId: only used when networkMode is existing/,
    ],
    [
      "allocation pool outside the subnet",
      "dev",
      { allocationPoolStart: "10.99.0.10" },
      /istio-openstack:allocationPoolStart: must be a usable address inside nodeCidr 10\.20\.0\.0\/22/,
    ],
    [
      "allocation pool reversed",
      "dev",
      { allocationPoolStart: "10.20.1.0", allocationPoolEnd: "10.20.0.50" },
      /istio-openstack:allocationPoolEnd: must not come before allocationPoolStart/,
    ],
    [
      "unknown environment",
      "dev",
      { environment: "qa" },
      /istio-openstack:environment: expected one of dev, staging, prod/,
    ],
    [
      "cluster name not a DNS label",
      "dev",
      { clusterName: "Mesh_Prod" },
      /istio-openstack:clusterName: expected lowercase letters/,
    ],
    [
      "worker pools not YAML",
      "dev",
      { workerPools: "- name: a\n  count: [" },
      /istio-openstack:workerPools: expected a YAML document/,
    ],
    [
      "worker pool count negative",
      "dev",
      { workerPools: "- name: general\n  count: -1\n  flavor: m1.large\n" },
      /istio-openstack:workerPools\[0\]\.count: must be 0 or more.*\(got -1\)/,
    ],
    [
      "worker pool typo",
      "dev",
      { workerPools: "- name: general\n  count: 1\n  flavour: m1.large\n" },
      /istio-openstack:workerPools\[0\][\s\S]*(flavour|flavor)/,
    ],
    [
      "duplicate worker pools",
      "dev",
      {
        workerPools: [
          { name: "a", count: 1, flavor: "f" },
          { name: "a", count: 1, flavor: "f" },
        ],
      },
      /istio-openstack:workerPools: pool names must be unique/,
    ],
    [
      "bad taint effect",
      "dev",
      { workerPools: [{ name: "a", count: 1, flavor: "f", taints: [{ key: "k", effect: "Never" }] }] },
      /istio-openstack:workerPools\[0\]\.taints\[0\]\.effect/,
    ],
    [
      "node label the kubelet may not set",
      "dev",
      { workerPools: [{ name: "a", count: 1, flavor: "f", labels: { "node-role.kubernetes.io/worker": "" } }] },
      /istio-openstack:workerPools\[0\]\.labels.*NodeRestriction/,
    ],
    ["node subnet too small", "dev", { nodeCidr: "10.20.0.0/29" }, /istio-openstack:nodeCidr: too small for 3 nodes/],
    [
      "SSH key not a key",
      "dev",
      { sshPublicKey: "hello" },
      /istio-openstack:sshPublicKey: expected an OpenSSH public key line/,
    ],
    [
      "an environment weaker than the stack's name",
      "prod",
      { environment: "dev" },
      /istio-openstack:environment: is weaker than the stack's name says \(prod: prod\).*\(got "dev"\)/,
    ],
    [
      "admin CIDRs that together are the internet",
      "prod",
      { adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"] },
      /istio-openstack:adminCidrs: together cover every IPv4 address.*refused in prod/,
    ],
    [
      "a system namespace in the mesh",
      "dev",
      { meshNamespaces: { "kube-system": "default", default: "default" } },
      /istio-openstack:meshNamespaces\.kube-system: is a Kubernetes system namespace[\s\S]*meshNamespaces\.default: is a Kubernetes system namespace/,
    ],
    [
      "node names over 63 characters",
      "dev",
      {
        clusterName: "a-rather-long-cluster-name-for-the-team",
        workerPools: [{ name: "general-purpose-pool", count: 10, flavor: "f", generation: 12 }],
      },
      /istio-openstack:workerPools\[0\]\.name: makes node names such as a-rather-long-cluster-name-for-the-team-general-purpose-pool-9-g12 \(66 characters\), over the 63/,
    ],
  ];

  it.each(cases)("%s", (_title, stack, overrides, expected) => {
    const message = refusal(stack, overrides);
    expect(message).toMatch(expected);
    expect(message).toMatch(/nothing was created/);
  });

  it("world-open admin CIDR is accepted in staging when explicitly allowed, and in dev", () => {
    expect(() =>
      parseStackConfig(rawConfig("staging", { adminCidrs: ["0.0.0.0/0"], allowWorldOpenAdminCidr: true }), "staging"),
    ).not.toThrow();
    expect(() => parseStackConfig(rawConfig("dev", { adminCidrs: ["0.0.0.0/0"] }), "dev")).not.toThrow();
  });

  it("reports every problem at once, one line each", () => {
    const message = refusal("prod", {
      controlPlaneCount: 4,
      networkMtu: 100,
      nodeCidr: "nope",
      adminCidrs: ["0.0.0.0/0"],
    });
    expect(message).toMatch(/invalid \(4 problems\)/);
    for (const key of ["controlPlaneCount", "networkMtu", "nodeCidr", "adminCidrs[0]"]) {
      expect(message).toContain(`istio-openstack:${key}:`);
    }
  });

  it("reads the same under the Pulumi CLI: the Node.js runtime prints the message alone", () => {
    let thrown: unknown;
    try {
      parseStackConfig(rawConfig("prod", { controlPlaneCount: 2, adminCidrs: ["0.0.0.0/0"] }), "prod");
    } catch (error) {
      thrown = error;
    }
    // What @pulumi/pulumi's uncaught-error handler (cmd/run/run.js) logs for an error the program throws.
    const printed = RunError.isInstance(thrown) ? (thrown as Error).message : defaultErrorMessage(thrown);
    expect(printed).toBe((thrown as ConfigError).message);
    expect(printed).toMatch(/^Configuration of stack "prod" is invalid \(2 problems\); nothing was created:\n {2}- /);
    expect(printed).not.toMatch(/problems: \[|namespace:/);
    expect(printed).not.toContain("\u001b["); // ANSI colour
  });

  it("a stack named prod-eu that says staging is refused too", () => {
    expect(() =>
      parseStackConfig(rawConfig("prod", { environment: "staging", clusterName: "prod-eu" }), "prod-eu"),
    ).toThrow(/istio-openstack:environment: is weaker than the stack's name says \(prod-eu: prod\)/);
  });

  it("admin CIDRs covering part of the internet, a stack name without an environment word: accepted", () => {
    expect(() => parseStackConfig(rawConfig("prod", { adminCidrs: ["0.0.0.0/1"] }), "prod")).not.toThrow();
    expect(() =>
      parseStackConfig(rawConfig("dev", { environment: "dev", clusterName: "production" }), "production"),
    ).not.toThrow();
  });

  it("refuses keys the program would never read: a misspelt namespace, or none", () => {
    const raw = { ...rawConfig("dev"), otherKeys: ["istio-openstak:adminCidrs", "adminCidrs", "openstack:cloud"] };
    let message = "";
    try {
      parseStackConfig(raw, "dev");
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message).toMatch(/invalid \(2 problems\)/);
    expect(message).toContain(
      "  - istio-openstak:adminCidrs: namespace istio-openstak is not this project's (istio-openstack), so the key is never read; did you mean istio-openstack:adminCidrs?",
    );
    expect(message).toContain(
      "  - adminCidrs: a key without a namespace is never read; did you mean istio-openstack:adminCidrs?",
    );
    // A provider's keys, and another project's from a shared ESC environment, are theirs.
    expect(() =>
      parseStackConfig({ ...rawConfig("dev"), otherKeys: ["openstack:cloud", "billing:costCenter"] }, "dev"),
    ).not.toThrow();
  });

  it("a stack not named after an environment must say which one it is", () => {
    expect(() => parseStackConfig(rawConfig("dev"), "team-a")).toThrow(/istio-openstack:environment/);
    expect(
      parseStackConfig(rawConfig("dev", { environment: "staging", clusterName: "team-a" }), "team-a").environment,
    ).toBe("staging");
  });
});

describe("no value of any key crashes the loader", () => {
  const keys = Object.keys(configKeys);
  const anyValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.string(), fc.integer())),
    fc.dictionary(fc.string(), fc.string()),
    fc.constantFrom("0.0.0.0/0", "10.0.0.0/8", "latest", "- a\n- b", "{", "1e3", "-0", "[1,2"),
  );

  it("returns a config or throws a ConfigError naming the key", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        anyValue,
        fc.constantFrom("dev", "staging", "prod"),
        (name, value, stack) => {
          try {
            parseStackConfig(rawConfig(stack, { [name]: value }), stack);
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            expect(error.problems.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("a secret value never appears in a configuration error", () => {
  const kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: s3cr3t-t0ken-value}}]";
  const secretKeyNames = Object.entries(configKeys)
    .filter(([, spec]) => "secret" in spec && spec.secret)
    .map(([name]) => name);

  it("a mistyped secret key set with --secret: named, its value masked", () => {
    const message = refusal("dev", { existingKubeconfg: kubeconfig }, ["existingKubeconfg"]);
    expect(message).toContain("istio-openstack:existingKubeconfg: unknown key");
    expect(message).toContain("did you mean existingKubeconfig?");
    expect(message).toContain("(got [secret])");
    expect(message).not.toContain("s3cr3t");
  });

  it("a mistyped secret key set without --secret is masked too (it still holds the secret)", () => {
    const message = refusal("dev", { existingKubeConfig2: kubeconfig });
    expect(message).toContain("istio-openstack:existingKubeConfig2: unknown key");
    expect(message).not.toContain("s3cr3t");
  });

  it("a mistyped ordinary key keeps its value in the message (it helps and cannot leak)", () => {
    expect(refusal("dev", { nodeCidrr: "10.20.0.0/16" })).toContain('(got "10.20.0.0/16")');
  });

  it("any value under any misspelling of a secret key, or refused by a secret key's own check, stays out", () => {
    expect(secretKeyNames.length).toBeGreaterThan(0);
    const typo = (name: string, at: number, with_: string) =>
      `${name.slice(0, at % name.length)}${with_}${name.slice((at % name.length) + 1)}`;
    fc.assert(
      fc.property(
        fc.constantFrom(...secretKeyNames),
        fc.nat(),
        fc.constantFrom("x", "", "_", "Q"),
        fc.string({ minLength: 8 }).map((s) => `SECRET-${s}`),
        fc.boolean(),
        (name, at, with_, value, asSecret) => {
          const misspelt = typo(name, at, with_);
          for (const [key, overrides] of [
            [misspelt, { [misspelt]: value }],
            [name, { [name]: "" }],
          ] as const) {
            let message = "";
            try {
              parseStackConfig(rawConfig("dev", overrides, asSecret ? [key] : []), "dev");
            } catch (error) {
              message = (error as Error).message;
            }
            expect(message).not.toContain("SECRET-");
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("the in-cluster cloud provider's Keystone and credential", () => {
  const appCredDeployer = {
    source: 'clouds.yaml entry "ci" (/etc/openstack/clouds.yaml)',
    authUrl: "https://keystone.example.com:5000/v3",
    applicationCredential: true,
  };
  const parse = (
    stack: string,
    overrides: Record<string, unknown>,
    deployer?: typeof appCredDeployer,
    secrets: string[] = [],
  ) => parseStackConfig({ ...rawConfig(stack, overrides, secrets), ...(deployer ? { deployer } : {}) }, stack);
  const message = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      return (error as ConfigError).message;
    }
    throw new Error("accepted");
  };

  it("takes keystoneUrl from the deployer's credentials when the stack gives none", () => {
    const deployer = { ...appCredDeployer, applicationCredential: false };
    expect(parse("prod", { keystoneUrl: undefined }, deployer).keystoneUrl).toBe(
      "https://keystone.example.com:5000/v3",
    );
    // Given wins.
    expect(parse("prod", {}, deployer).keystoneUrl).toBe("https://keystone.example.com:5000/v3");
  });

  it("refuses a kubeadm stack whose Keystone URL cannot be known, naming keystoneUrl", () => {
    expect(message(() => parse("dev", { keystoneUrl: undefined }))).toMatch(
      /istio-openstack:keystoneUrl: required in kubeadm mode \(the in-cluster cloud provider logs in there\), and the deployer's credentials \(unknown credentials\) name no Keystone URL: set it/,
    );
    // No in-cluster provider, no Keystone URL needed.
    expect(() => parse("dev", { keystoneUrl: undefined, clusterMode: "openstack-only" })).not.toThrow();
  });

  it("refuses http:// for keystoneUrl (given or derived) and chart repositories outside dev, unless allowed", () => {
    const httpDeployer = {
      ...appCredDeployer,
      authUrl: "http://keystone.internal:5000/v3",
      applicationCredential: false,
    };
    expect(message(() => parse("staging", { keystoneUrl: undefined }, httpDeployer))).toMatch(
      /istio-openstack:keystoneUrl: sends the cluster's application credential over plain http outside dev, refused in staging.*\(got "http:\/\/keystone\.internal:5000\/v3"\)/,
    );
    expect(
      message(() => parse("prod", { chartRepositories: { "tigera-operator": "http://mirror.internal/charts" } })),
    ).toMatch(/istio-openstack:chartRepositories\.tigera-operator: fetches what runs in the cluster over plain http/);
    expect(() => parse("dev", { keystoneUrl: "http://keystone.internal:5000/v3" })).not.toThrow();
    expect(() =>
      parse("prod", { keystoneUrl: "http://keystone.internal:5000/v3", allowInsecureHttp: true }),
    ).not.toThrow();
  });

  it("a deployer with an application credential must give the in-cluster one (Keystone refuses it the creation)", () => {
    expect(message(() => parse("prod", {}, appCredDeployer))).toMatch(
      /istio-openstack:cloudProviderCredential: required: you deploy with an application credential \(clouds\.yaml entry "ci" .*\), and Keystone refuses a restricted one .*\(openstack application credential create mesh-prod-cloud-provider --role member --role load-balancer_member\) .* pulumi config set --secret cloudProviderCredential/,
    );
    expect(() => parse("prod", { deployerCredentialUnrestricted: true }, appCredDeployer)).not.toThrow();
    const given = { id: "0123456789abcdef0123456789abcdef", secret: "s3cret" };
    const config = parse("prod", { cloudProviderCredential: given }, appCredDeployer, ["cloudProviderCredential"]);
    expect(config.cloudProviderCredential).toEqual(given);
  });

  it("a given credential takes no roles or generation, and its secret is never printed", () => {
    const malformed = message(() =>
      parse("prod", { cloudProviderCredential: { id: "not-an-id", secret: "s3cret" } }, undefined, [
        "cloudProviderCredential",
      ]),
    );
    expect(malformed).toMatch(/cloudProviderCredential\.id: expected a Keystone id .*\(got \[secret\]\)/);
    expect(malformed).not.toContain("not-an-id");
    const text = message(() =>
      parse(
        "prod",
        {
          cloudProviderCredential: { id: "0123456789abcdef0123456789abcdef", secret: "s3cret" },
          cloudProviderRoles: ["member"],
          cloudProviderCredentialGeneration: 2,
        },
        undefined,
        ["cloudProviderCredential"],
      ),
    );
    expect(text).toMatch(/cloudProviderRoles: only applies to the credential the program creates/);
    expect(text).toMatch(/cloudProviderCredentialGeneration: only applies to the credential the program creates/);
    expect(text).not.toContain("s3cret");
  });
});
