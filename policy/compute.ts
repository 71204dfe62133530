/**
 * Nodes: control-plane nodes spread by a Nova server group in prod (mandatory); and the choices a
 * team may make differently (advisory): floating IPs on workers, a single control-plane node outside
 * dev, booting from the flavor's ephemeral disk in prod.
 *
 * Instances name their server group in schedulerHints[].group, an id that is unknown during a
 * preview; the join therefore follows the engine's property dependencies (which resources the
 * schedulerHints input was computed from), and falls back to matching ids once they are known.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type EnvironmentConfig, environmentConfigSchema, environmentOf, relaxed } from "./environment";
import { at, list, type Props, record, text } from "./props";

export const INSTANCE = "openstack:compute/instance:Instance";
export const SERVER_GROUP = "openstack:compute/serverGroup:ServerGroup";
export const PORT = "openstack:networking/port:Port";
export const FLOATING_IP_ASSOCIATIONS = [
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
  "openstack:compute/floatingIpAssociate:FloatingIpAssociate",
];
const SPREADING = new Set(["anti-affinity", "soft-anti-affinity"]);

/** The subset of a PolicyResource the stack policies read (so tests can build plain objects). */
export type StackResource = Pick<
  PolicyResource,
  "type" | "name" | "urn" | "props" | "propertyDependencies" | "dependencies"
>;

export type NodeRole = "control-plane" | "worker" | undefined;

/** The role the cluster layer records in the instance's metadata (metadata.role). */
export function roleOf(instance: Pick<StackResource, "props">): NodeRole {
  const role = text(at(instance.props, "metadata.role"));
  return role === "control-plane" || role === "worker" ? role : undefined;
}

function dependenciesOf(resource: StackResource, property: string): StackResource[] {
  return resource.propertyDependencies?.[property] ?? [];
}

/** The server groups an instance is scheduled into. */
export function serverGroupsOf(instance: StackResource, all: readonly StackResource[]): StackResource[] {
  const byDependency = dependenciesOf(instance, "schedulerHints").filter((r) => r.type === SERVER_GROUP);
  if (byDependency.length > 0) return byDependency;
  const ids = list(instance.props.schedulerHints)
    .map((hint) => text(record(hint).group))
    .filter((id): id is string => id !== undefined);
  return all.filter((r) => r.type === SERVER_GROUP && ids.includes(text(r.props.id) ?? "\u0000"));
}

export function controlPlaneSpreadViolations(resources: readonly StackResource[]): string[] {
  return resources
    .filter((r) => r.type === INSTANCE && roleOf(r) === "control-plane")
    .flatMap((instance) => {
      const groups = serverGroupsOf(instance, resources);
      if (groups.length === 0) return [`control-plane node ${instance.name} is in no server group`];
      const spread = groups.some((g) => list(g.props.policies).some((p) => SPREADING.has(String(p))));
      if (spread) return [];
      const policies = groups.flatMap((g) => list(g.props.policies).map(String));
      return [
        `control-plane node ${instance.name} is in a server group with policies [${policies.join(", ")}], not anti-affinity`,
      ];
    });
}

export const controlPlaneAntiAffinity: StackValidationPolicy = {
  name: "control-plane-anti-affinity",
  description: "In prod, every control-plane node is in a server group with anti-affinity or soft-anti-affinity.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: environmentConfigSchema,
  validateStack: (args, reportViolation) => {
    const environment = environmentOf(args.resources[0]?.urn, args.getConfig<EnvironmentConfig>());
    if (environment !== "prod" && environment !== "unknown") return;
    for (const violation of controlPlaneSpreadViolations(args.resources)) reportViolation(violation);
  },
};

/** Worker nodes that get a floating IP (through the port their instance uses). */
export function workersWithFloatingIps(resources: readonly StackResource[]): string[] {
  const workers = resources.filter((r) => r.type === INSTANCE && roleOf(r) === "worker");
  const associations = resources.filter((r) => FLOATING_IP_ASSOCIATIONS.includes(r.type));
  return workers
    .filter((worker) => {
      const ports = new Set(dependenciesOf(worker, "networks").map((p) => p.urn));
      return associations.some(
        (a) =>
          dependenciesOf(a, "portId").some((p) => ports.has(p.urn)) ||
          dependenciesOf(a, "instanceId").some((i) => i.urn === worker.urn),
      );
    })
    .map((worker) => worker.name);
}

export const workerFloatingIps: StackValidationPolicy = {
  name: "worker-no-floating-ip",
  description: "Worker nodes are reached through load balancers, not floating IPs of their own.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateStack: (args, reportViolation) => {
    for (const name of workersWithFloatingIps(args.resources)) {
      reportViolation(`worker ${name} has a floating IP: every NodePort and the kubelet face the internet through it`);
    }
  },
};

export const haControlPlane: StackValidationPolicy = {
  name: "ha-control-plane-outside-dev",
  description: "Outside dev the control plane has at least 3 nodes (etcd quorum survives one loss).",
  enforcementLevel: "advisory",
  severity: "medium",
  configSchema: environmentConfigSchema,
  validateStack: (args, reportViolation) => {
    const environment = environmentOf(args.resources[0]?.urn, args.getConfig<EnvironmentConfig>());
    if (relaxed(environment)) return;
    const count = args.resources.filter((r) => r.type === INSTANCE && roleOf(r) === "control-plane").length;
    if (count > 0 && count < 3) {
      reportViolation(`${count} control-plane node in a ${environment} stack: losing it loses the API and etcd`);
    }
  },
};

/** Whether an instance boots from a Cinder volume (block device 0 from an image to a volume). */
export function bootsFromVolume(props: Props): boolean {
  return list(props.blockDevices).some((device) => {
    const d = record(device);
    return text(d.destinationType) === "volume" && (d.bootIndex === 0 || d.bootIndex === undefined);
  });
}

export const prodBootFromVolume: ResourceValidationPolicy = {
  name: "prod-boot-from-volume",
  description: "In prod, nodes boot from a Cinder volume rather than the hypervisor's ephemeral disk.",
  enforcementLevel: "advisory",
  severity: "low",
  configSchema: environmentConfigSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== INSTANCE) return;
    if (environmentOf(args.urn, args.getConfig<EnvironmentConfig>()) !== "prod") return;
    if (!bootsFromVolume(args.props)) {
      const lost = roleOf(args) === "control-plane" ? "the node's disk and its etcd member" : "the node's disk";
      reportViolation(`boots from the flavor's ephemeral disk: a hypervisor loss loses ${lost}`);
    }
  },
};
