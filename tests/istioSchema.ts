/**
 * Istio objects against Istio's published CRD schemas (@kubernetes-models/istio). That package is
 * ESM-only, so tests/istio-schema.mjs validates in a child Node process.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

/** One list of schema errors per object, empty when the object is valid. */
export function istioSchemaErrors(objects: readonly unknown[]): string[][] {
  const result = spawnSync(process.execPath, [path.join(__dirname, "istio-schema.mjs")], {
    cwd: path.resolve(__dirname, ".."),
    input: JSON.stringify(objects),
    encoding: "utf8",
  });
  if (result.status !== 0 || result.stderr) {
    throw new Error(`the Istio schema validator failed (exit ${result.status}): ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as string[][];
}
