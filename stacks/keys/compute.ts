import { z } from "zod";
import { kubernetes } from "../../lib/versions";
import { key } from "../spec";
import { dnsLabel, exactVersion, kubernetesQualifiedName, nonEmptyString } from "../types";

export const SERVER_GROUP_POLICIES = ["soft-anti-affinity", "anti-affinity", "soft-affinity", "affinity"] as const;
const serverGroupPolicy = z.enum(SERVER_GROUP_POLICIES);

const labelKey = kubernetesQualifiedName("label key");
const labelValue = z
  .string()
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "expected a Kubernetes label value");

/**
 * The kubelet labels its own node, and the NodeRestriction admission plugin refuses labels under
 * kubernetes.io / k8s.io except these prefixes: such a label would keep the node from registering.
 */
const SELF_LABEL_PREFIXES = ["kubelet.kubernetes.io/", "node.kubernetes.io/"];
const nodeLabelKey = labelKey.refine((name) => {
  const prefix = name.includes("/") ? name.slice(0, name.indexOf("/")) : "";
  const restricted =
    prefix === "kubernetes.io" ||
    prefix.endsWith(".kubernetes.io") ||
    prefix === "k8s.io" ||
    prefix.endsWith(".k8s.io");
  return !restricted || SELF_LABEL_PREFIXES.some((allowed) => name.startsWith(allowed));
}, "a kubelet may not set labels under kubernetes.io or k8s.io (NodeRestriction) except node.kubernetes.io/ and kubelet.kubernetes.io/: the node would not register; use your own prefix such as example.com/role");

const taint = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

/** Boot from a Cinder volume instead of the flavor's ephemeral disk. */
const bootVolume = z.strictObject({
  sizeGb: z.int().min(10, "must be at least 10 GB").max(2000, "must be at most 2000 GB"),
  volumeType: nonEmptyString.optional(),
});

export const workerPool = z.strictObject({
  name: dnsLabel(20),
  count: z.int().min(0, "must be 0 or more").max(100, "must be at most 100 (split larger fleets into pools)"),
  flavor: nonEmptyString,
  image: nonEmptyString.optional(),
  labels: z.record(nodeLabelKey, labelValue).default({}),
  taints: z.array(taint).default([]),
  serverGroupPolicy: serverGroupPolicy.default("soft-anti-affinity"),
  bootVolume: bootVolume.optional(),
  availabilityZones: z.array(nonEmptyString).default([]),
  floatingIps: z.boolean().default(false),
  /** Bump to replace this pool's nodes on purpose: new nodes are created, then the old ones deleted (docs/operations.md, node rolls). */
  generation: z.int().min(0).max(999).default(0),
});
export type WorkerPoolConfig = z.output<typeof workerPool>;

const workerPools = z
  .array(workerPool)
  .min(1, "list at least one worker pool")
  .refine((pools) => new Set(pools.map((p) => p.name)).size === pools.length, "pool names must be unique");

/** `<pool>-<index>` → repair generation (bump to replace that one node). */
const nodeRepairs = z.record(
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?-[0-9]+$/, "expected <pool>-<index>, e.g. control-plane-1 or general-2"),
  z.int().min(1, "must be 1 or more (bump it to replace the node again)").max(999, "must be at most 999"),
);

export const computeKeys = {
  kubernetesVersion: key({
    type: "string",
    description:
      "Kubernetes version the nodes install (kubeadm, kubelet, kubectl); exact, from the versions module by default.",
    schema: exactVersion,
    default: kubernetes.version,
  }),
  nodeImage: key({
    type: "string",
    description:
      "Glance image (name or id) of every node unless a pool names its own: Ubuntu 24.04 (or Debian 12) with cloud-init; the nodes install containerd 2.x and Kubernetes from their own repositories (docs/cloud-requirements.md).",
    schema: nonEmptyString,
    default: "ubuntu-24.04",
  }),
  configDrive: key({
    type: "boolean",
    description:
      "Boot nodes with a config drive, so cloud-init reads their user data from it and nodes never need the metadata service (which pods cannot reach either way: docs/security.md). Turn off only on a cloud without config drives; changes apply to nodes created afterwards. The policy pack requires it outside dev.",
    schema: z.boolean(),
    default: true,
  }),
  sshPublicKey: key({
    type: "string",
    description:
      "Public key for a Nova keypair on every node, for break-glass access from adminCidrs. Unset: no keypair and port 22 stays closed (the bootstrap needs no SSH).",
    schema: z
      .string()
      .regex(
        /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/,
        "expected an OpenSSH public key line",
      ),
    optional: true,
  }),
  controlPlaneCount: key({
    type: "integer",
    description: "Control-plane nodes: 1, 3 or 5 (etcd needs an odd quorum). More than 1 puts the API behind Octavia.",
    schema: z.union([z.literal(1), z.literal(3), z.literal(5)], {
      error: "expected 1, 3 or 5 (etcd needs an odd number of members for quorum)",
    }),
    default: { perEnvironment: { dev: 1, staging: 3, prod: 3 } },
  }),
  controlPlaneFlavor: key({
    type: "string",
    description: "Nova flavor of control-plane nodes (at least 2 vCPU and 4 GiB for kubeadm).",
    schema: nonEmptyString,
    default: { perEnvironment: { dev: "m1.medium", staging: "m1.large", prod: "m1.large" } },
  }),
  controlPlaneServerGroupPolicy: key({
    type: "string",
    description:
      "Nova server-group policy of the control plane. anti-affinity needs as many hypervisors as nodes; soft-anti-affinity spreads where it can.",
    schema: serverGroupPolicy,
    default: { perEnvironment: { dev: "soft-anti-affinity", staging: "soft-anti-affinity", prod: "anti-affinity" } },
  }),
  controlPlaneBootVolumeSizeGb: key({
    type: "integer",
    description: "Boot control-plane nodes from a Cinder volume of this size (GB). Unset: the flavor's ephemeral disk.",
    schema: z.int().min(10, "must be at least 10 GB").max(2000, "must be at most 2000 GB"),
    optional: true,
  }),
  availabilityZones: key({
    type: "array",
    description: "Nova availability zones to spread nodes across, round-robin. Empty: the cloud's default zone.",
    schema: z.array(nonEmptyString),
    default: [],
  }),
  nodeRepairs: key({
    type: "string",
    yamlDocument: true,
    description:
      "Nodes to replace, as a YAML map of <pool>-<index> to a repair generation (e.g. {control-plane-1: 1, general-2: 1}); bumping one creates a new node named …-r<n> beside the old one, which is deleted at the end of the update. A control-plane replacement joins and cleans up etcd membership itself (docs/operations.md).",
    schema: nodeRepairs,
    default: {},
  }),
  workerPools: key({
    type: "string",
    yamlDocument: true,
    description:
      "Worker pools, as a YAML list: name, count, flavor, and optional image, labels, taints, serverGroupPolicy, bootVolume {sizeGb, volumeType}, availabilityZones, floatingIps, generation.",
    schema: workerPools,
    default: {
      perEnvironment: {
        dev: [{ name: "general", count: 2, flavor: "m1.large" }],
        staging: [{ name: "general", count: 3, flavor: "m1.large" }],
        prod: [{ name: "general", count: 3, flavor: "m1.xlarge" }],
      },
    },
  }),
};
