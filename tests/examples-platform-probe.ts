/**
 * Reads a mocked platform stack the way the consumer does (examples/consumer/src/platform.ts), in its
 * own process: a failing output fails the way `pulumi up` would, with rejections no test runner can
 * see as unhandled. stdin: a JSON array of {outputs, secretOutputNames}; stdout: a JSON array with,
 * for each, {"values": …} or {"error": "…"}.
 * Run by tests/examples.test.ts through tsx.
 */
import * as pulumi from "@pulumi/pulumi";
import { readPlatform } from "../examples/consumer/src/platform";

type Result = { values: Record<string, unknown> } | { error: string };

async function probe(platform: { outputs: Record<string, unknown>; secretOutputNames: string[] }, i: number) {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: { name: args.inputs.name, ...platform } }),
      call: (args) => args.inputs,
    },
    "mesh-consumer",
    "dev",
    false,
  );
  const view = readPlatform(`org/istio-openstack/case-${i}`);
  const resolve = <T>(o: pulumi.Output<T>) => (o as unknown as { promise(): Promise<T> }).promise();
  try {
    const [clusterName, kubeconfig, injectionLabel, kubeconfigSecret] = await Promise.all([
      resolve(view.clusterName),
      resolve(view.kubeconfig),
      resolve(view.injectionLabel),
      pulumi.isSecret(view.kubeconfig),
    ]);
    return { values: { clusterName, kubeconfig, injectionLabel, kubeconfigSecret } };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Other outputs of a failed case reject too, as in a failed `pulumi up`: the result says what failed.
  process.on("unhandledRejection", () => undefined);
  const results: Result[] = [];
  for (const [i, platform] of (JSON.parse(Buffer.concat(chunks).toString("utf8")) as never[]).entries()) {
    results.push(await probe(platform, i));
  }
  process.stdout.write(JSON.stringify(results));
}

void main();
