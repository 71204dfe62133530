/**
 * What keeps the cluster's keys out of reach, enforced on the graph whoever changes the code or the
 * config (the program's defaults do all of this; these rules catch a key turned off by mistake):
 * - nodes boot from a config drive outside dev (they never need the metadata service);
 * - where the program installs Calico, pods are denied the metadata address (a Calico tier that
 *   passes everything else, and a policy in it denying 169.254.169.254), in every environment:
 *   no key turns that off;
 * - the key material the cluster cannot lose (CA keys and certificates, the service-account key,
 *   the Secrets encryption key) is protected outside dev;
 * - every namespace the program creates says its Pod Security level, and outside dev none is
 *   privileged unless a privileged node agent (istio-cni, ztunnel) runs in it.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { INSTANCE } from "./compute";
import { type EnvironmentConfig, environmentConfigSchema, environmentOf, relaxed } from "./environment";
import { chartName, HELM_RELEASE } from "./helm";
import { at, list, type Props, record, text } from "./props";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const CALICO_OPERATOR_CHART = "tigera-operator";
export const METADATA_ADDRESS = "169.254.169.254/32";
export const KEY_MATERIAL = [
  "tls:index/privateKey:PrivateKey",
  "tls:index/selfSignedCert:SelfSignedCert",
  "random:index/randomBytes:RandomBytes",
];
const ENFORCE = "pod-security.kubernetes.io/enforce";
/** Charts whose pods need a privileged namespace by design (they set up pod networking from the host). */
const NODE_AGENT_CHARTS = ["cni", "ztunnel"];

export const nodesBootWithConfigDrive: ResourceValidationPolicy = {
  name: "nodes-config-drive",
  description:
    "Outside dev, nodes boot from a config drive, so they never need the metadata service that serves their user data.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema: environmentConfigSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== INSTANCE) return;
    if (relaxed(environmentOf(args.urn, args.getConfig<EnvironmentConfig>()))) return;
    if (args.props.configDrive !== true) {
      reportViolation("boots without a config drive: set configDrive: true (the default) unless the cloud has none");
    }
  },
};

interface CalicoObject {
  readonly kind: string;
  readonly props: Props;
}

/** Whether the Calico objects of a stack deny pod egress to the metadata address in a pass-through tier. */
export function metadataGuarded(objects: readonly CalicoObject[]): boolean {
  const passTiers = new Set(
    objects
      .filter((o) => o.kind === "Tier" && text(at(o.props, "spec.defaultAction")) === "Pass")
      .map((o) => text(at(o.props, "metadata.name"))),
  );
  return objects.some((o) => {
    if (o.kind !== "GlobalNetworkPolicy") return false;
    const spec = record(o.props.spec);
    const firstRule = record(list(spec.egress)[0]);
    return (
      passTiers.has(text(spec.tier)) &&
      list(spec.types).includes("Egress") &&
      text(firstRule.action) === "Deny" &&
      list(at(firstRule, "destination.nets")).includes(METADATA_ADDRESS)
    );
  });
}

export const podsDeniedMetadata: StackValidationPolicy = {
  name: "pods-denied-metadata",
  description:
    "Where the stack installs Calico, pods are denied the cloud's metadata address (Nova serves every node's user data, keys included, to it).",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateStack: (args, reportViolation) => {
    const installsCalico = args.resources.some(
      (r) => r.type === HELM_RELEASE && chartName(r.props) === CALICO_OPERATOR_CHART,
    );
    if (!installsCalico) return;
    const calico = args.resources
      .filter((r) => text(r.props.apiVersion) === "crd.projectcalico.org/v1")
      .map((r) => ({ kind: text(r.props.kind) ?? "", props: r.props }));
    if (!metadataGuarded(calico)) {
      reportViolation(
        `no Calico GlobalNetworkPolicy in a Pass tier denies egress to ${METADATA_ADDRESS}: any pod can read the nodes' user data (CA keys, join token)`,
      );
    }
  },
};

export const keyMaterialProtected: ResourceValidationPolicy = {
  name: "key-material-protected",
  description:
    "Outside dev, the cluster's key material (CA keys and certificates, service-account key, Secrets encryption key) is protected against replacement.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  validateResource: (args, reportViolation) => {
    if (!KEY_MATERIAL.includes(args.type)) return;
    if (relaxed(environmentOf(args.urn, args.getConfig<EnvironmentConfig>()))) return;
    if (!args.opts.protect) {
      reportViolation(
        "not protected: replacing it would cut every node and client off, or leave the Secrets in etcd unreadable (protectResources: true)",
      );
    }
  },
};

export const namespacePodSecurity: StackValidationPolicy = {
  name: "namespace-pod-security",
  description:
    "Every namespace says its Pod Security level; outside dev none is privileged unless a privileged node agent (istio-cni, ztunnel) runs in it.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  validateStack: (args, reportViolation) => {
    const environment = environmentOf(args.resources[0]?.urn, args.getConfig<EnvironmentConfig>());
    const agentNamespaces = new Set(
      args.resources
        .filter((r) => r.type === HELM_RELEASE && NODE_AGENT_CHARTS.includes(chartName(r.props)))
        .map((r) => text(r.props.namespace)),
    );
    for (const ns of args.resources.filter((r) => r.type === NAMESPACE)) {
      const name = text(at(ns.props, "metadata.name")) ?? ns.name;
      const level = text(record(at(ns.props, "metadata.labels"))[ENFORCE]);
      if (!level) {
        reportViolation(`namespace ${name} has no ${ENFORCE} label: it gets whatever the cluster defaults to`);
      } else if (level === "privileged" && !relaxed(environment) && !agentNamespaces.has(name)) {
        reportViolation(
          `namespace ${name} enforces privileged in a ${environment} stack: any pod there may take the node (for mesh namespaces: istioCni: true)`,
        );
      }
    }
  },
};
