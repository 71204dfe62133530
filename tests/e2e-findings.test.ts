/**
 * Regressions for what the real engine found (npm run e2e:openstack, e2e/deploy/README.md), pinned
 * under mocks so they fail in seconds rather than in a real deployment.
 */
import fc from "fast-check";
import { octaviaCidrOrder } from "../components/endpoint/apiEndpoint";
import { mainConfig, type Settings } from "../e2e/deploy/scenario";
import { evaluateProgram, evaluateStack } from "./harness";

const LISTENER = "openstack:loadbalancer/listener:Listener";

describe("Octavia listener allow list (perpetual diff found on a real Octavia)", () => {
  // Octavia returns allowed_cidrs in its own order (sorted, one row per CIDR); the provider keeps the
  // list as given, so any other order proposed an update of the listener on every preview and refresh.
  it("is unique and in Octavia's order whatever the order of admin CIDRs and node subnet", async () => {
    const run = await evaluateProgram(() => {
      const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
      const { ApiEndpoint } =
        require("../components/endpoint/apiEndpoint") as typeof import("../components/endpoint/apiEndpoint");
      new ApiEndpoint("t-api", {
        clusterName: "t",
        loadBalancer: true,
        networkId: "network-id",
        subnetId: "subnet-id",
        floatingIpPool: "public",
        allowedCidrs: ["203.0.113.0/24", pulumi.output("10.20.0.0/22"), "198.51.100.0/24", "10.20.0.0/22"],
        routerReady: [],
        protect: false,
      });
      return {};
    });
    expect(run.one(LISTENER, "t-api").inputs.allowedCidrs).toEqual([
      "10.20.0.0/22",
      "198.51.100.0/24",
      "203.0.113.0/24",
    ]);
  });

  it("a stack whose admin CIDR is its node subnet gets one entry", async () => {
    const run = await evaluateStack("staging", { adminCidrs: ["10.30.0.0/22"] });
    const router = run.computedOutputs["openstack:networking/router:Router::mesh-staging-router"] as {
      externalFixedIps: { ipAddress: string }[];
    };
    expect(run.one(LISTENER, "mesh-staging-api").inputs.allowedCidrs).toEqual(
      ["10.30.0.0/22", `${router.externalFixedIps[0].ipAddress}/32`].sort(),
    );
  });

  it("ordering is idempotent, sorted and loses nothing", () => {
    const cidr = fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 }))
      .map(([a, b, c, p]) => `${a}.${b}.${c}.0/${p}`);
    fc.assert(
      fc.property(fc.array(cidr, { maxLength: 8 }), (cidrs) => {
        const ordered = octaviaCidrOrder(cidrs);
        expect(octaviaCidrOrder(ordered)).toEqual(ordered);
        expect([...ordered].sort()).toEqual(ordered);
        expect(new Set(ordered)).toEqual(new Set(cidrs));
        expect(ordered).toHaveLength(new Set(cidrs).size);
      }),
    );
  });
});

describe("rotating sshPublicKey (409 'Key pair already exists' on a real Nova)", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHqzJXbbmm8GgHFuNiROlEM9m9CpAaR4Ba2LZA+Wa13t";
  const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGmF0ugiSgqX3CShuAS3OLu0rDb7UPD9ZtuWhVWA0Vz";
  const keypairOf = async (publicKey: string) => {
    const run = await evaluateStack("dev", { sshPublicKey: publicKey });
    const keypairs = run.ofType("openstack:compute/keypair:Keypair");
    expect(keypairs).toHaveLength(1);
    return { run, keypair: keypairs[0] };
  };

  // Pulumi creates the replacement before deleting the original; Nova refuses a second keypair of
  // the same name. The physical name carries a digest of the key, the logical name (URN) stays.
  it("names the keypair after its key, so a new key is created beside the old one", async () => {
    const first = await keypairOf(`${KEY} admin@laptop`);
    const rotated = await keypairOf(`${OTHER_KEY} admin@laptop`);
    const recommented = await keypairOf(`${KEY} someone-else`);
    expect(first.keypair.name).toBe("mesh-dev-admin");
    expect(rotated.keypair.name).toBe("mesh-dev-admin");
    expect(first.keypair.inputs.name).toMatch(/^mesh-dev-admin-[0-9a-f]{8}$/);
    expect(rotated.keypair.inputs.name).not.toBe(first.keypair.inputs.name);
    expect(recommented.keypair.inputs.name).toBe(first.keypair.inputs.name);
  });

  it("a new key never rebuilds a running node (the keypair is only read at first boot)", async () => {
    const { run, keypair } = await keypairOf(KEY);
    for (const instance of run.ofType("openstack:compute/instance:Instance")) {
      expect(instance.inputs.keyPair).toBe(keypair.inputs.name);
      expect(instance.options.ignoreChanges).toContain("keyPair");
    }
  });
});

describe("the configuration e2e:openstack deploys", () => {
  const settings: Settings = {
    cloud: "e2e",
    externalNetwork: "public",
    image: "e2e-image",
    controlPlaneFlavor: "m1.medium",
    workerFlavor: "m1.small",
    adminCidr: "203.0.113.0/24",
    nodeCidr: "10.20.0.0/22",
    byoCidr: "10.50.0.0/24",
    workers: 1,
    prefix: "e2e",
  };

  it("is valid, HA-shaped, and builds the OpenStack layer without tls, random, command or kubernetes", async () => {
    const values = Object.fromEntries(
      Object.entries(mainConfig(settings)).map(([k, v]) => [k, v as unknown]),
    ) as Record<string, unknown>;
    // A stack named e2e, as the driver's: every key comes from the driver's config, none from a stack file.
    const run = await evaluateStack("staging", { ...values, keystoneUrl: undefined });
    const families = new Set(run.resources.map((r) => r.type.split(":")[0]));
    expect([...families].filter((f) => ["tls", "random", "command", "kubernetes"].includes(f))).toEqual([]);
    expect(run.ofType("openstack:compute/instance:Instance")).toHaveLength(4);
    expect(run.ofType("openstack:loadbalancer/member:Member")).toHaveLength(3);
    for (const r of run.resources) expect(r.options.protect ?? false).toBe(false);
  });
});
