/**
 * The Kubernetes objects the program creates itself (not through a chart), taken from the offline
 * run as the engine would send them, and the CRDs they need from ../shared/charts. Pure: the bootstrap
 * ring (stack.ts) applies them to the real kube-apiserver.
 */
import { readdirSync } from "node:fs";
import * as path from "node:path";

/** A recorded resource of the offline run (tools/mocks RecordedResource), as far as this needs it. */
export interface RunResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string } & Record<string, unknown>;
  readonly [field: string]: unknown;
}

/**
 * Config the bootstrap ring adds to every stack to validate the objects only some configurations
 * create (the UIs published through the gateway, Alertmanager's secret configuration), beside the
 * stack's own objects. Values as the engine passes them (strings; YAML documents as JSON).
 */
export const OBJECT_VARIANT = {
  values: {
    kialiHost: "mesh.example.com",
    kialiTlsSecret: "mesh-tls",
    alertmanagerReceiver: JSON.stringify({ webhook_configs: [{ url: "https://alerts.example.com/hook" }] }),
  },
  secretKeys: ["alertmanagerReceiver"],
} as const;

/** Resource types that are not objects of the cluster's API (Helm releases are the charts' business). */
const NOT_OBJECTS = /^kubernetes:(helm\.sh\/|yaml\/|kustomize\/)/;

/**
 * Every object the program would create through the Kubernetes provider. Reads (`Service.get`) carry
 * no inputs and are left out; what the engine would send is exactly the recorded inputs.
 */
export function programObjects(resources: readonly RunResource[]): KubernetesObject[] {
  return resources
    .filter((r) => r.type.startsWith("kubernetes:") && !NOT_OBJECTS.test(r.type))
    .filter((r) => typeof r.inputs.apiVersion === "string" && typeof r.inputs.kind === "string")
    .map((r) => r.inputs as unknown as KubernetesObject);
}

/**
 * The mesh layer's other shapes (docs/mesh-modes.md): ambient data plane, Gateway API ingress with
 * Kiali on its host, a waypoint and an egress waypoint. Each stack is also evaluated with these keys
 * and their objects join the dry run, so the Gateways, HTTPRoutes and parameters ConfigMap meet the
 * real Gateway API CRDs too.
 */
export const MESH_VARIANT: Readonly<Record<string, unknown>> = {
  meshDataplaneMode: "ambient",
  ingressApi: "gateway-api",
  meshNamespaces: "shop: prod-stable\n",
  meshWaypoints: ["shop"],
  egressGateway: true,
  kialiHost: "kiali.example.com",
  kialiTlsSecret: "kiali-tls",
};

const identity = (o: KubernetesObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** The objects of both evaluations, each object once (the first evaluation's wins). */
export function mergeObjects(
  first: readonly KubernetesObject[],
  second: readonly KubernetesObject[],
): KubernetesObject[] {
  const seen = new Set(first.map(identity));
  return [...first, ...second.filter((o) => !seen.has(identity(o)))];
}

/**
 * Objects the provider applies with force (the `pulumi.com/patchForce` annotation: the Gateway API
 * CRDs, which adopt what an administrator applied before) go to the dry run with --force-conflicts,
 * as the provider would send them.
 */
export function forcedApply(object: KubernetesObject): boolean {
  const annotations = (object.metadata.annotations ?? {}) as Record<string, string>;
  return annotations["pulumi.com/patchForce"] === "true";
}

/**
 * Namespaces that exist before the program's namespaced objects on a real cluster: those it creates
 * itself, and those its Helm releases create (`createNamespace`).
 */
export function namespacesFirst(resources: readonly RunResource[], objects: readonly KubernetesObject[]): string[] {
  const own = objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
  const byReleases = resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.createNamespace === true)
    .map((r) => String(r.inputs.namespace));
  return [...new Set([...own, ...byReleases])].sort();
}

/**
 * The CRDs of ../shared/charts, in the order they are installed: Istio's (base chart), the Gateway
 * API standard channel, Calico's and its operator's.
 */
export function crdFiles(chartsDir: string): string[] {
  const yamlIn = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => path.join(dir, f));
  return [
    path.join(chartsDir, "base", "crds", "crd-all.gen.yaml"),
    ...yamlIn(path.join(chartsDir, "gateway-api-crds")),
    ...yamlIn(path.join(chartsDir, "crd.projectcalico.org.v1", "crds")),
    ...yamlIn(path.join(chartsDir, "crd.projectcalico.org.v1", "crds", "calico")),
  ];
}

/** How many objects `kubectl apply --dry-run=server` reports as accepted (one line each). */
export function acceptedByDryRun(output: string): number {
  return output.split("\n").filter((line) => /^\S+\/\S+ serverside-applied \(server dry run\)$/.test(line.trim()))
    .length;
}
