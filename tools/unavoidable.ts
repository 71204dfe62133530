/**
 * The chain of steps no ordering can take off a stack's `pulumi up` (docs/performance.md): each one
 * needs what the one before it produced, on the cloud or in the cluster, whatever the program's
 * graph says. The benchmark sums their latencies (tools/latency.ts) and compares the critical path
 * with it. Steps a stack does not have (no network of its own, no cluster of its own) are left out.
 */
import { bootstrapKey, gateLatency, isApiGate, isInitNode } from "./criticalPath";
import { chartOf, isWaitedGateway, latencyOf, NODE_BOOTSTRAP } from "./latency";
import type { RecordedResource } from "./mocks";

export interface UnavoidableStep {
  readonly key: string;
  readonly label: string;
  readonly seconds: number;
  /** Why it cannot start before the step above it is done. */
  readonly why: string;
}

type Pick = (resources: readonly RecordedResource[]) => RecordedResource | undefined;

const ofType = (type: string) => (r: RecordedResource) => r.type === type;
/** A chart installed as a Helm release or applied by the provider (helm.v4.Chart). */
const ofChart = (chart: string) => (r: RecordedResource) =>
  (r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:helm.sh/v4:Chart") && chartOf(r) === chart;
/** The resource of this kind the previous step's resource depends on, or the first one. */
const dependedOnBy =
  (matches: (r: RecordedResource) => boolean, dependent: (r: RecordedResource) => boolean): Pick =>
  (resources) => {
    const wanted = resources.find(dependent);
    const candidates = resources.filter(matches);
    return candidates.find((c) => wanted?.dependencies.includes(c.key)) ?? candidates[0];
  };

/** The ingress gateway: the gateway chart's release (not an egress gateway's), or the Gateway API Gateway Pulumi waits for. */
const GATEWAY = (r: RecordedResource) =>
  (ofChart("gateway")(r) && r.inputs.name !== "istio-egressgateway") || isWaitedGateway(r);

/** In order; `pick` finds the stack's resource for the step. The node's own bootstrap is added after its instance. */
const STEPS: readonly { readonly why: string; readonly pick: Pick }[] = [
  {
    why: "every OpenStack call goes through the provider",
    pick: (rs) => rs.find(ofType("pulumi:providers:openstack")),
  },
  {
    why: "the node subnet belongs to the network",
    pick: (rs) => rs.find(ofType("openstack:networking/network:Network")),
  },
  {
    why: "a node's port takes its address from the subnet",
    pick: (rs) => rs.find(ofType("openstack:networking/subnet:Subnet")),
  },
  {
    why: "the first control-plane node boots on its port (its address is in the node's kubeadm documents)",
    pick: (rs) => {
      const bootsOn = rs.find(isInitNode)?.inputDependencies.networks ?? [];
      return rs.find((r) => r.type === "openstack:networking/port:Port" && bootsOn.includes(r.key));
    },
  },
  { why: "Nova boots the node", pick: (rs) => rs.find(isInitNode) },
  {
    why: "nothing Kubernetes can be applied before the API answers through its endpoint",
    pick: (rs) => rs.find(isApiGate),
  },
  {
    why: "the Kubernetes provider reads the cluster once it answers",
    pick: (rs) => rs.find((r) => r.type === "pulumi:providers:kubernetes"),
  },
  { why: "Calico's Installation needs its CRDs", pick: (rs) => rs.find(ofChart("crd.projectcalico.org.v1")) },
  { why: "istiod's pods need the pod network", pick: (rs) => rs.find(ofChart("tigera-operator")) },
  {
    why: "the gateway's pods are injected by istiod's webhook, which must answer first",
    pick: dependedOnBy(ofChart("istiod"), GATEWAY),
  },
  {
    why: "the revision tag's webhook admits the gateway's pods",
    pick: dependedOnBy(ofType("kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"), GATEWAY),
  },
  {
    why: "the gateway is ready when its pods run and OCCM gave its Service a load balancer address",
    pick: (rs) => rs.find(GATEWAY),
  },
  {
    why: "the stack's output reads the gateway's address from its Service",
    pick: (rs) =>
      rs.find(
        (r) => r.type === "kubernetes:core/v1:Service" && r.dependencies.some((d) => rs.find(GATEWAY)?.key === d),
      ),
  },
];

export function unavoidableChain(resources: readonly RecordedResource[]): UnavoidableStep[] {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const chain: UnavoidableStep[] = [];
  for (const step of STEPS) {
    const resource = step.pick(resources);
    if (!resource) continue;
    chain.push({
      key: resource.key,
      label: `${resource.type} ${resource.name}`,
      seconds: isApiGate(resource) ? gateLatency(resource, byKey).seconds : latencyOf(resource).seconds,
      why: step.why,
    });
    if (isInitNode(resource)) {
      chain.push({
        key: bootstrapKey(resource.key),
        label: `${resource.name} bootstraps the API server`,
        seconds: NODE_BOOTSTRAP.seconds,
        why: "cloud-init and kubeadm init run on the booted node",
      });
    }
  }
  return chain;
}
