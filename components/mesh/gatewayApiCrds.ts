/**
 * The Kubernetes Gateway API CRDs (standard channel) at the version the pinned Istio requires, read
 * from the copy committed beside this file (components/mesh/gateway-api/<version>/, byte-identical to
 * the upstream release's config/crd/standard; tests compare it with ../shared/charts/gateway-api-crds).
 *
 * Why a committed copy and not the release URL: the objects are created one by one with
 * `retainOnDelete` (a destroy, or a switch back to the classic gateway, must never delete the CRDs and
 * with them every HTTPRoute in the cluster), which a multi-language `yaml/v2.ConfigFile` cannot pass
 * to its children (pulumi/pulumi-kubernetes#3065); and a preview must not depend on reaching GitHub.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseAllDocuments } from "yaml";
import { gatewayApi } from "../../lib/versions";
import { resourceName } from "../names";

export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: unknown;
}

/** Every object of a multi-document YAML text, empty documents dropped. */
export function parseManifests(text: string): ManifestObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => o !== null && typeof o === "object" && "kind" in o);
}

export const GATEWAY_API_CRD_DIR = path.join(__dirname, "gateway-api", `v${gatewayApi.version}`);

/**
 * Parsing the 1.2 MB bundle takes about a second: parse each folder once per process (kept on
 * globalThis, so repeated evaluations under isolated module registries, as in the tests, share it).
 */
const bundleCache = globalThis as { __gatewayApiBundles?: Map<string, readonly ManifestObject[]> };
bundleCache.__gatewayApiBundles ??= new Map();
const parsedBundles = bundleCache.__gatewayApiBundles;

/** The bundle's objects, in file-name order (stable: the graph and the plan do not move between runs). */
export function gatewayApiBundle(dir = GATEWAY_API_CRD_DIR): readonly ManifestObject[] {
  const known = parsedBundles.get(dir);
  if (known) return known;
  const objects = readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .flatMap((file) => parseManifests(readFileSync(path.join(dir, file), "utf8")));
  parsedBundles.set(dir, objects);
  return objects;
}

export interface GatewayApiCrdsArgs {
  readonly clusterName: string;
  /** What must be ready first (the cluster add-ons). */
  readonly after: readonly pulumi.Resource[];
}

/**
 * The bundle on the cluster: each object applied server-side and never deleted by Pulumi. Deleting a
 * CRD deletes every object of its kind in the cluster (other teams' routes too), so a destroy, or a
 * switch back to the classic gateway, leaves them (as Helm leaves a chart's CRDs). `patchForce` adopts
 * CRDs an administrator applied before, as Gateway API's install guide does with --force-conflicts.
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
  readonly objects: readonly pulumi.CustomResource[];

  constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:mesh:GatewayApiCrds", name, {}, opts);
    const named = (...parts: string[]) => resourceName(args.clusterName, ...parts);
    const resourceOpts: pulumi.CustomResourceOptions = {
      parent: this,
      dependsOn: [...args.after],
      retainOnDelete: true,
    };
    this.objects = gatewayApiBundle().map((object) => {
      const metadata = {
        ...object.metadata,
        annotations: { ...object.metadata.annotations, "pulumi.com/patchForce": "true" },
      };
      const spec = object.spec as never;
      switch (object.kind) {
        case "CustomResourceDefinition":
          return new k8s.apiextensions.v1.CustomResourceDefinition(
            named("crd", object.metadata.name),
            { metadata, spec },
            resourceOpts,
          );
        case "ValidatingAdmissionPolicy":
          return new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            named("vap", object.metadata.name),
            { metadata, spec },
            resourceOpts,
          );
        case "ValidatingAdmissionPolicyBinding":
          return new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            named("vapb", object.metadata.name),
            { metadata, spec },
            resourceOpts,
          );
        default:
          throw new Error(`the Gateway API bundle holds an unexpected ${object.kind} ${object.metadata.name}`);
      }
    });
    this.registerOutputs({});
  }
}
