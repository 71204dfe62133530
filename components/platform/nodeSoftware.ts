/**
 * What the nodes install and where from, wired from the stack config: the pinned packages of
 * lib/versions.ts from their upstream apt repositories.
 */
import { nodePackages } from "../../lib/versions";
import type { StackConfig } from "../../stacks/load";
import type { NodeSoftware } from "../cluster/bootstrap/nodeSoftware";

/** pkgs.k8s.io serves one repository per minor version: 1.36.3 → v1.36. */
function kubernetesMinor(version: string): string {
  const [major, minor] = version.split(".");
  return `v${major}.${minor}`;
}

export function nodeSoftware(config: Pick<StackConfig, "kubernetesVersion">): NodeSoftware {
  const { kubernetes, containerd } = nodePackages;
  return {
    packages: {
      kubernetesRepository: `${kubernetes.repository}/${kubernetesMinor(config.kubernetesVersion)}/deb/`,
      kubernetesPackageVersion: `${config.kubernetesVersion}-${kubernetes.debianRevision}`,
      containerdRepository: containerd.repository,
      containerdPackage: containerd.package,
      containerdPackageVersion: `${containerd.version}-${containerd.debianRevision}`,
    },
  };
}
