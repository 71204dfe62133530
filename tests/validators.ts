/**
 * The real validators the tests run (installed by `npm run validators`, which `npm test` runs
 * first). A missing one fails the test that needs it, never skips it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function requiredTool(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error(`${name} is not installed: run npm run validators (tools/install-validators.sh)`);
  return found;
}

/** promtool or amtool, as tools/install-validators.sh unpacks them from Debian's packages into the cache. */
export function prometheusTool(name: "promtool" | "amtool"): string {
  const cache = process.env.E2E_CACHE_DIR ?? path.join(os.homedir(), ".cache", "istio-openstack-e2e");
  const tool = path.join(cache, "prometheus-tools", "bin", name);
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run npm run validators (tools/install-validators.sh)`);
  return tool;
}
