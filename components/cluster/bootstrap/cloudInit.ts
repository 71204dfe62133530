/**
 * Node user data: one cloud-config document per node, rendered from typed inputs. Checked by the
 * real `cloud-init schema` and its scripts by `shellcheck` in the test suite.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";

const SCRIPT_DIR = path.join(__dirname, "scripts");
export const BOOTSTRAP_DIR = "/etc/kubernetes/bootstrap";

export function bootstrapScript(name: "node-prepare.sh" | "kubeadm-bootstrap.sh" | "readyz-wait.sh"): string {
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
  readonly files: readonly WriteFile[];
}

export interface NodeUserDataInput {
  readonly hostname: string;
  readonly kubernetesVersion: string;
  readonly aptRepositoryMinor: string;
  /** Absent: the node is only prepared (clusterMode openstack-only). */
  readonly kubeadm?: KubeadmBootstrap;
}

function environmentFile(input: NodeUserDataInput): string {
  const entries: Record<string, string> = {
    KUBERNETES_VERSION: input.kubernetesVersion,
    KUBERNETES_APT_MINOR: input.aptRepositoryMinor,
    ...(input.kubeadm ? { NODE_ROLE: input.kubeadm.role, API_ENDPOINT: input.kubeadm.apiEndpoint } : {}),
  };
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n")}\n`;
}

export function renderUserData(input: NodeUserDataInput): string {
  const files: WriteFile[] = [
    { path: `${BOOTSTRAP_DIR}/bootstrap.env`, content: environmentFile(input), permissions: "0644" },
    { path: "/usr/local/sbin/node-prepare.sh", content: bootstrapScript("node-prepare.sh"), permissions: "0755" },
    ...(input.kubeadm
      ? [
          {
            path: "/usr/local/sbin/kubeadm-bootstrap.sh",
            content: bootstrapScript("kubeadm-bootstrap.sh"),
            permissions: "0755" as const,
          },
          ...input.kubeadm.files,
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
    runcmd: [["/usr/local/sbin/node-prepare.sh"], ...(input.kubeadm ? [["/usr/local/sbin/kubeadm-bootstrap.sh"]] : [])],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
