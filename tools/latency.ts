/**
 * Typical latencies of what `pulumi up` creates, per resource: how long the provider's create takes
 * on a real OpenStack cloud and Kubernetes cluster, from the moment the engine starts it to the
 * moment it reports it created. They weight the graph for the critical path (tools/criticalPath.ts)
 * the benchmark prints. Typical figures, not measurements of this machine: the local OpenStack of
 * `npm run e2e:openstack` boots nothing (fake compute, no-op Octavia) and reports its own, much
 * smaller, per-type times.
 *
 * Sources of the figures:
 * - [i14] issue 14's working figures for a public OpenStack cloud: Octavia amphora load balancer
 *   ~120 s, Nova boot ~60 s, API readiness ~240 s after boot, a Helm release 45-150 s.
 * - [cpo2223] kubernetes/cloud-provider-openstack PR #2223: an amphora load balancer's create "can
 *   take a bit longer than ~150s" in some environments (OCCM's wait raised to ~320 s);
 *   osism/testbed PR #1316: the 3-minute create timeout raised to 10 minutes on slower clouds.
 * - [octavia] Octavia's API: a listener, pool, member or monitor is created only while its load
 *   balancer is ACTIVE, and each create puts it in PENDING_UPDATE until the amphora has its new
 *   configuration (409 otherwise). terraform-provider-openstack 3.4.0 `resourceMemberV2Create`
 *   waits for the parent ACTIVE and retries a 409, so the children of one load balancer are
 *   created one at a time (the critical path models that).
 * - [monitor] the API health monitor (components/endpoint/apiEndpoint.ts): a member is ONLINE
 *   after `maxRetries` (3) successful checks `delay` (10 s) apart, Octavia's definition of
 *   max_retries; readyz-wait.sh polls every 10 s.
 * - [kubeadm] kubeadm init's wait-control-plane phase allows "up to 4m0s" for the API server; the
 *   node first runs cloud-init (apt installs of containerd, kubelet, kubeadm; image pulls).
 * - [helm] `helm install --wait --atomic`: ready means every Deployment/DaemonSet/StatefulSet of
 *   the chart is ready and every LoadBalancer Service has an address (helm 3 kube/ready.go), so the
 *   ingress gateway's release includes OCCM creating its Octavia load balancer [cpo2223].
 * - Neutron, Keystone and Kubernetes API objects: one or two API round trips plus the provider's
 *   read-back, a few seconds [i14 treats them as negligible].
 */
import type { RecordedResource } from "./mocks";

export interface Latency {
  readonly seconds: number;
  /** What the time is made of (shown in the chain). */
  readonly basis: string;
}

const s = (seconds: number, basis: string): Latency => ({ seconds, basis });

/** Per resource type. Helm releases and the readiness gate depend on what they are: see latencyOf. */
export const TYPE_LATENCY: Readonly<Record<string, Latency>> = {
  "pulumi:providers:openstack": s(1, "provider configuration"),
  "pulumi:providers:kubernetes": s(1, "provider configuration, reads the server version"),
  "openstack:networking/network:Network": s(3, "Neutron API"),
  "openstack:networking/subnet:Subnet": s(3, "Neutron API"),
  "openstack:networking/router:Router": s(5, "Neutron API, gateway port on the external network"),
  "openstack:networking/routerInterface:RouterInterface": s(5, "Neutron API, interface port"),
  "openstack:networking/secGroup:SecGroup": s(2, "Neutron API"),
  "openstack:networking/secGroupRule:SecGroupRule": s(1, "Neutron API"),
  "openstack:networking/port:Port": s(3, "Neutron API"),
  "openstack:networking/floatingIp:FloatingIp": s(3, "Neutron API"),
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate": s(3, "Neutron API"),
  "openstack:compute/serverGroup:ServerGroup": s(1, "Nova API"),
  "openstack:compute/keypair:Keypair": s(1, "Nova API"),
  "openstack:compute/instance:Instance": s(60, "Nova boot until ACTIVE [i14]"),
  "openstack:identity/applicationCredential:ApplicationCredential": s(2, "Keystone API"),
  "openstack:loadbalancer/loadBalancer:LoadBalancer": s(120, "Octavia amphora boot until ACTIVE [i14, cpo2223]"),
  "openstack:loadbalancer/listener:Listener": s(10, "Octavia configures the amphora [octavia]"),
  "openstack:loadbalancer/pool:Pool": s(10, "Octavia configures the amphora [octavia]"),
  "openstack:loadbalancer/monitor:Monitor": s(10, "Octavia configures the amphora [octavia]"),
  "openstack:loadbalancer/member:Member": s(10, "Octavia configures the amphora [octavia]"),
  "tls:index/privateKey:PrivateKey": s(0, "computed locally"),
  "tls:index/selfSignedCert:SelfSignedCert": s(0, "computed locally"),
  "tls:index/certRequest:CertRequest": s(0, "computed locally"),
  "tls:index/locallySignedCert:LocallySignedCert": s(0, "computed locally"),
  "random:index/randomString:RandomString": s(0, "computed locally"),
  "random:index/randomPassword:RandomPassword": s(0, "computed locally"),
  "random:index/randomBytes:RandomBytes": s(0, "computed locally"),
  // The other local command (the readiness gate has its own latency): join-token.sh's one API write.
  "command:local:Command": s(1, "one Kubernetes API call from the deploying machine (join window)"),
  "kubernetes:core/v1:Namespace": s(2, "Kubernetes API (server-side apply)"),
  "kubernetes:core/v1:Secret": s(2, "Kubernetes API (server-side apply)"),
  "kubernetes:core/v1:Service": s(2, "Kubernetes API (server-side apply)"),
  // The provider waits until the claim is Bound (Immediate binding: Cinder creates the volume first).
  "kubernetes:core/v1:PersistentVolumeClaim": s(20, "Cinder volume created, claim Bound"),
  "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration": s(2, "Kubernetes API"),
  "kubernetes:security.istio.io/v1:PeerAuthentication": s(2, "Kubernetes API"),
  "kubernetes:security.istio.io/v1:AuthorizationPolicy": s(2, "Kubernetes API"),
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": s(2, "Kubernetes API"),
  "kubernetes:crd.projectcalico.org/v1:Tier": s(2, "Kubernetes API"),
  "kubernetes:crd.projectcalico.org/v1:GlobalNetworkPolicy": s(2, "Kubernetes API"),
  "kubernetes:telemetry.istio.io/v1:Telemetry": s(2, "Kubernetes API"),
  "kubernetes:networking.istio.io/v1:Gateway": s(2, "Kubernetes API"),
  "kubernetes:networking.istio.io/v1:VirtualService": s(2, "Kubernetes API"),
  "kubernetes:gateway.networking.k8s.io/v1:Gateway": s(2, "Kubernetes API (a waypoint: not waited for)"),
  "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": s(2, "Kubernetes API"),
  "kubernetes:core/v1:ConfigMap": s(2, "Kubernetes API"),
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": s(2, "Kubernetes API"),
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": s(2, "Kubernetes API"),
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": s(2, "Kubernetes API"),
};

/** Helm releases by chart: `helm install --wait` on a cluster whose prerequisites are ready [i14, helm]. */
export const CHART_LATENCY: Readonly<Record<string, Latency>> = {
  "crd.projectcalico.org.v1": s(20, "Calico's CRDs applied server-side (~1 MB of objects)"),
  "tigera-operator": s(45, "operator ready; calico-node rolls out after Helm returns"),
  "openstack-cloud-controller-manager": s(40, "OCCM DaemonSet on the control plane"),
  "openstack-cinder-csi": s(60, "CSI controller and node plugins"),
  "kubelet-csr-approver": s(30, "approver Deployment ready"),
  base: s(15, "Istio CRDs and the default-revision webhook, no pods"),
  istiod: s(60, "istiod Deployment ready"),
  cni: s(40, "istio-cni node agent on every node"),
  ztunnel: s(40, "ztunnel node proxy on every node"),
  gateway: s(180, "gateway pods, then OCCM's Octavia load balancer for the Service until it has an address"),
  prometheus: s(90, "Cinder volume for the PVC, server ready"),
  jaeger: s(45, "Jaeger ready"),
  grafana: s(60, "dashboards downloaded by the init container, Grafana ready"),
  "kiali-server": s(45, "Kiali ready"),
};

/** A type or chart missing from the tables: counted, and listed by the benchmark. */
export const UNKNOWN_LATENCY = s(5, "not in the latency table");

/** From the first control-plane node ACTIVE to its API server answering /readyz [i14, kubeadm]. */
export const NODE_BOOTSTRAP = s(
  240,
  "cloud-init (packages, images) and kubeadm init until /readyz answers [i14, kubeadm]",
);

/** The readiness gate once the API answers: its poll interval, and the load balancer's health monitor [monitor]. */
export const GATE_AFTER_API = {
  direct: s(5, "readyz-wait.sh polls every 10 s"),
  loadBalanced: s(35, "the member goes ONLINE after 3 checks 10 s apart, readyz-wait.sh polls every 10 s"),
} as const;

const RELEASE = "kubernetes:helm.sh/v3:Release";
/** helm.v4.Chart: the provider renders the chart and applies its objects server-side (no release). */
const CHART = "kubernetes:helm.sh/v4:Chart";

/**
 * A Gateway API Gateway Pulumi waits for (`pulumi.com/waitFor`): the ingress with `ingressApi:
 * gateway-api`, which Istio deploys and OCCM gives a load balancer, like the gateway chart's release.
 * Other Gateways (ambient's waypoints) are applied without waiting.
 */
export function isWaitedGateway(resource: RecordedResource): boolean {
  const metadata = resource.inputs.metadata as { annotations?: Record<string, string> } | undefined;
  return (
    resource.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway" &&
    metadata?.annotations?.["pulumi.com/waitFor"] !== undefined
  );
}

const GATEWAY_API_INGRESS = s(180, "Istio deploys the gateway, then OCCM's Octavia load balancer for its Service");

/** The chart a Helm release installs: its name, or the last segment of an OCI reference. */
export function chartOf(resource: RecordedResource): string {
  const chart = String(resource.inputs.chart ?? "");
  return chart.slice(chart.lastIndexOf("/") + 1);
}

/** The latency of one resource; `known` is false where the tables had no figure. */
export function latencyOf(resource: RecordedResource): Latency & { known: boolean } {
  if (!resource.custom && !resource.remote) return { seconds: 0, basis: "component", known: true };
  if (resource.type === RELEASE || resource.type === CHART) {
    const latency = CHART_LATENCY[chartOf(resource)];
    return latency ? { ...latency, known: true } : { ...UNKNOWN_LATENCY, known: false };
  }
  if (isWaitedGateway(resource)) return { ...GATEWAY_API_INGRESS, known: true };
  if (
    resource.type === "openstack:loadbalancer/loadBalancer:LoadBalancer" &&
    resource.inputs.loadbalancerProvider === "ovn"
  ) {
    return { seconds: 5, basis: "OVN provider: no amphora to boot", known: true };
  }
  const latency = TYPE_LATENCY[resource.type];
  return latency ? { ...latency, known: true } : { ...UNKNOWN_LATENCY, known: false };
}
