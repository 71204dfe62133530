/**
 * The real validators the tests run (installed by `npm run validators`, which `npm test` runs
 * first). A missing one fails the test that needs it, never skips it.
 */
import { spawnSync } from "node:child_process";

export function requiredTool(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error(`${name} is not installed: run npm run validators (tools/install-validators.sh)`);
  return found;
}
