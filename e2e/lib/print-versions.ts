/**
 * Prints the pinned versions as shell assignments, so the e2e shell scripts read the one versions
 * module instead of repeating numbers: `eval "$(npx tsx e2e/lib/print-versions.ts)"`.
 */
import { kubernetes, nodePackages, toolchain } from "../../lib/versions";

const toShellName = (prefix: string, key: string): string =>
  `${prefix}_${key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;

const lines = [
  ...Object.entries(kubernetes).map(([key, value]) => `${toShellName("KUBERNETES", key)}=${value}`),
  ...Object.entries(toolchain).map(([key, value]) => `${toShellName("TOOLCHAIN", key)}=${value}`),
  // The containerd the nodes install: tools/containerd.sh builds the same release to check its configuration.
  `CONTAINERD_VERSION=${nodePackages.containerd.version}`,
];
process.stdout.write(`${lines.join("\n")}\n`);
