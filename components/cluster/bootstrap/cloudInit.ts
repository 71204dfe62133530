/**
 * Node user data: one cloud-config document per node, rendered from typed inputs. Checked by the
 * real `cloud-init schema` and its scripts by `shellcheck` in the test suite.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { type NodeSoftware, nodeSoftwareEnvironment, nodeSoftwareFiles } from "./nodeSoftware";

const SCRIPT_DIR = path.join(__dirname, "scripts");
export const BOOTSTRAP_DIR = "/etc/kubernetes/bootstrap";

export type BootstrapScriptName =
  | "node-prepare.sh"
  | "kubeadm-bootstrap.sh"
  | "etcd-membership.sh"
  | "readyz-wait.sh"
  | "join-token.sh"
  | "kubeadm-certs-renew.sh";

export function bootstrapScript(name: BootstrapScriptName): string {
  return readFileSync(path.join(SCRIPT_DIR, name), "utf8");
}

export interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: "0600" | "0644" | "0755";
}

/** What kubeadm needs on a node besides the scripts: PKI files and configuration documents. */
export interface KubeadmBootstrap {
  readonly role: "init" | "control-plane" | "worker";
  readonly apiEndpoint: string;
  /** The node's own address in the node subnet (its etcd peer URL on a control-plane node). */
  readonly nodeAddress: string;
  /**
   * The other control-plane nodes' addresses: the first node initialises only if none of them (nor
   * the endpoint) answers; a joining control-plane node reaches etcd through them.
   */
  readonly controlPlanePeers: readonly string[];
  /** The node this one takes the place of (a repair): its etcd member and Node go around the join. */
  readonly replaces?: string;
  readonly files: readonly WriteFile[];
}

export interface NodeUserDataInput {
  readonly hostname: string;
  readonly kubernetesVersion: string;
  /** Packages and their sources, the container runtime's configuration, mirrors and proxy. */
  readonly software: NodeSoftware;
  /** Absent: the node is only prepared (clusterMode openstack-only). */
  readonly kubeadm?: KubeadmBootstrap;
}

function environmentFile(input: NodeUserDataInput): string {
  const entries: Record<string, string> = {
    KUBERNETES_VERSION: input.kubernetesVersion,
    ...nodeSoftwareEnvironment(input.software),
    ...(input.kubeadm
      ? {
          NODE_ROLE: input.kubeadm.role,
          API_ENDPOINT: input.kubeadm.apiEndpoint,
          NODE_NAME: input.hostname,
          NODE_ADDRESS: input.kubeadm.nodeAddress,
          CONTROL_PLANE_PEERS: input.kubeadm.controlPlanePeers.join(" "),
          ...(input.kubeadm.replaces ? { REPLACES: input.kubeadm.replaces } : {}),
        }
      : {}),
  };
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n")}\n`;
}

const script = (name: BootstrapScriptName): WriteFile => ({
  path: `/usr/local/sbin/${name}`,
  content: bootstrapScript(name),
  permissions: "0755",
});

/**
 * A control-plane node renews the certificates kubeadm signed on it (valid one year) by itself: a
 * daily timer, each node at its own random hour so an HA control plane never restarts together.
 */
export const CERTIFICATE_RENEWAL_TIMER = "kubeadm-certs-renew.timer";
const certificateRenewalUnits: WriteFile[] = [
  {
    path: "/etc/systemd/system/kubeadm-certs-renew.service",
    permissions: "0644",
    content: [
      "[Unit]",
      "Description=Renew kubeadm's control-plane certificates before they expire",
      "Documentation=https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/",
      "After=kubelet.service",
      "",
      "[Service]",
      "Type=oneshot",
      "ExecStart=/usr/local/sbin/kubeadm-certs-renew.sh",
      "",
    ].join("\n"),
  },
  {
    path: `/etc/systemd/system/${CERTIFICATE_RENEWAL_TIMER}`,
    permissions: "0644",
    content: [
      "[Unit]",
      "Description=Daily check of kubeadm's control-plane certificates",
      "",
      "[Timer]",
      "OnCalendar=daily",
      "RandomizedDelaySec=12h",
      "Persistent=true",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"),
  },
];

export function renderUserData(input: NodeUserDataInput): string {
  const kubeadm = input.kubeadm;
  const files: WriteFile[] = [
    { path: `${BOOTSTRAP_DIR}/bootstrap.env`, content: environmentFile(input), permissions: "0644" },
    ...nodeSoftwareFiles(input.software),
    script("node-prepare.sh"),
    ...(kubeadm
      ? [
          script("kubeadm-bootstrap.sh"),
          ...(kubeadm.role === "worker"
            ? []
            : [script("etcd-membership.sh"), script("kubeadm-certs-renew.sh"), ...certificateRenewalUnits]),
          ...kubeadm.files,
        ]
      : []),
  ];
  const document = {
    hostname: input.hostname,
    preserve_hostname: false,
    // Node names are Nova server names: the cloud-controller-manager finds instances by them.
    manage_etc_hosts: true,
    package_update: false,
    write_files: files.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions,
      owner: "root:root",
    })),
    // kubeadm-bootstrap.sh runs node-prepare.sh itself, with retries, before it joins. The renewal
    // timer first: its script does nothing until the node runs an API server.
    runcmd: [
      ...(kubeadm && kubeadm.role !== "worker" ? [["systemctl", "enable", "--now", CERTIFICATE_RENEWAL_TIMER]] : []),
      [kubeadm ? "/usr/local/sbin/kubeadm-bootstrap.sh" : "/usr/local/sbin/node-prepare.sh"],
    ],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
