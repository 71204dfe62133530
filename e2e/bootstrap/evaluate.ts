/**
 * Child process of run.ts: evaluates one stack's program offline exactly as `pulumi up` would send
 * it (tools/plan.ts evaluateStack, the mock engine), but with a fresh random key salt, so every key,
 * certificate and token is new for this run, as the tls and random providers would make them.
 * Prints one JSON document (an EvaluatedStack) on stdout. It holds private keys: the parent keeps it
 * in memory and in its scratch dir only.
 *
 *   tsx e2e/bootstrap/evaluate.ts <stack> [--mesh-variant | --observability-variant]
 *   (a variant prints only that variant's objects: objects.ts MESH_VARIANT, OBJECT_VARIANT)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { freshKeySalt } from "../../tools/mocks";
import { evaluateStack } from "../../tools/plan";
import {
  type KubernetesObject,
  MESH_VARIANT,
  mergeObjects,
  namespacesFirst,
  OBJECT_VARIANT,
  programObjects,
} from "./objects";

export interface EvaluatedNode {
  /** Logical name of the openstack.compute.Instance. */
  readonly name: string;
  /** The Instance's `userData` input: the cloud-config the node boots with. */
  readonly userData: string;
}

export interface EvaluatedStack {
  readonly stack: string;
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  readonly serviceCidr: string;
  /** The API floating IP, as the mocked cloud allocated it (the FloatingIp resource's address). */
  readonly floatingIp: string;
  /** The Octavia VIP in the node subnet, where the API sits behind a load balancer. */
  readonly vip: string | null;
  /** Stack outputs `apiEndpoint` and `kubeconfig` (the latter a secret). */
  readonly apiEndpointOutput: string;
  readonly kubeconfig: string;
  readonly kubeconfigIsSecret: boolean;
  /** The readiness gate's command.local.Command inputs, as the engine would receive them. */
  readonly readinessGate: { create: string; interpreter: string[]; environment: Record<string, string> };
  /** The join window's command (mints the join token on create, revokes it on delete). */
  readonly joinWindow: {
    create: string;
    delete: string;
    interpreter: string[];
    environment: Record<string, string>;
  };
  readonly joinTokenTtlMinutes: number;
  /** Logical name of the cluster CA's tls.PrivateKey (to prove its key is not the name-derived one). */
  readonly clusterCaKeyResource: string;
  readonly nodes: readonly EvaluatedNode[];
  /** The Kubernetes objects the program creates outside charts (objects.ts), and the namespaces they need first. */
  readonly objects: readonly KubernetesObject[];
  readonly namespaces: readonly string[];
  readonly evaluationMs: number;
}

/**
 * The stack's program objects in the mesh variant (objects.ts MESH_VARIANT): its stack file plus those
 * keys, evaluated in a process of its own (the program's modules are cached per process).
 */
function meshVariantObjects(stack: string, variant = "--mesh-variant"): KubernetesObject[] {
  const output = execFileSync(process.execPath, [...process.execArgv, __filename, stack, variant], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as KubernetesObject[];
}

async function printMeshVariantObjects(stack: string): Promise<void> {
  const root = path.resolve(__dirname, "..", "..");
  const document = parse(readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const config = { ...document.config };
  for (const [key, value] of Object.entries(MESH_VARIANT)) config[`istio-openstack:${key}`] = value;
  const dir = mkdtempSync(path.join(tmpdir(), "mesh-variant-"));
  try {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    writeFileSync(file, stringify({ config }));
    const { run } = await evaluateStack(stack, file, { keySalt: freshKeySalt() });
    process.stdout.write(JSON.stringify(programObjects(run.resources)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The stack with OBJECT_VARIANT's config (published UIs, Alertmanager with its secret receiver). */
async function printObservabilityVariantObjects(stack: string): Promise<void> {
  const { run } = await evaluateStack(stack, undefined, { overrides: OBJECT_VARIANT });
  process.stdout.write(JSON.stringify(programObjects(run.resources)));
}

async function main(stack: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { config, run } = await evaluateStack(stack, undefined, { keySalt: freshKeySalt() });
  const evaluationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const ofType = (type: string) => run.resources.filter((r) => r.type === type);
  const only = (type: string, test: (name: string) => boolean) => {
    const found = ofType(type).filter((r) => test(r.name));
    if (found.length !== 1) {
      throw new Error(`expected one ${type} matching, found ${found.map((r) => r.name).join(", ") || "none"}`);
    }
    return found[0];
  };
  const computed = (key: string) => run.computedOutputs[key] ?? {};

  const objects = mergeObjects(
    mergeObjects(programObjects(run.resources), meshVariantObjects(stack)),
    meshVariantObjects(stack, "--observability-variant"),
  );
  const floatingIp = only("openstack:networking/floatingIp:FloatingIp", (n) => n.endsWith("-api"));
  const loadBalancers = ofType("openstack:loadbalancer/loadBalancer:LoadBalancer");
  const gate = only("command:local:Command", (n) => n.endsWith("-readyz"));
  const joinWindow = only("command:local:Command", (n) => n.endsWith("-join-window"));
  const caKey = only("tls:index/privateKey:PrivateKey", (n) => n.endsWith("-pki-ca"));
  const result: EvaluatedStack = {
    stack,
    clusterName: config.clusterName,
    kubernetesVersion: config.kubernetesVersion,
    serviceCidr: config.serviceCidr,
    floatingIp: String(computed(floatingIp.key).address),
    vip: loadBalancers.length === 1 ? String(computed(loadBalancers[0].key).vipAddress) : null,
    apiEndpointOutput: String(run.outputs.apiEndpoint),
    kubeconfig: String(run.outputs.kubeconfig),
    kubeconfigIsSecret: run.secretOutputs.includes("kubeconfig"),
    readinessGate: {
      create: String(gate.inputs.create),
      interpreter: (gate.inputs.interpreter as string[]) ?? [],
      environment: (gate.inputs.environment as Record<string, string>) ?? {},
    },
    joinWindow: {
      create: String(joinWindow.inputs.create),
      delete: String(joinWindow.inputs.delete),
      interpreter: (joinWindow.inputs.interpreter as string[]) ?? [],
      environment: (joinWindow.inputs.environment as Record<string, string>) ?? {},
    },
    joinTokenTtlMinutes: config.joinTokenTtlMinutes,
    clusterCaKeyResource: caKey.name,
    nodes: ofType("openstack:compute/instance:Instance").map((i) => ({
      name: i.name,
      userData: String(i.inputs.userData),
    })),
    objects,
    namespaces: namespacesFirst(run.resources, objects),
    evaluationMs,
  };
  process.stdout.write(JSON.stringify(result));
}

if (require.main === module) {
  const stack = process.argv[2];
  if (!stack) {
    process.stderr.write("usage: tsx e2e/bootstrap/evaluate.ts <stack> [--mesh-variant | --observability-variant]\n");
    process.exit(2);
  }
  const variants: Record<string, (stack: string) => Promise<void>> = {
    "--mesh-variant": printMeshVariantObjects,
    "--observability-variant": printObservabilityVariantObjects,
  };
  (variants[process.argv[3] ?? ""] ?? main)(stack).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
