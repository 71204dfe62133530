/**
 * Stand-ins for what the cloud gives an existing cluster. First, the load-balancer controller (on OpenStack: the cloud-controller-manager
 * with Octavia). Helm's wait (the program's releases are atomic) holds a LoadBalancer Service until
 * it has an address; nothing here provides one. So, while the ring runs, every LoadBalancer
 * Service without an address gets one written into its status: its spec.loadBalancerIP if set
 * (a floating IP the user brought), else the next of 198.51.100.0/24 (documentation range). The
 * ring then checks that the program's ingress-address output is that address.
 */
import { log } from "../lib/bench";
import type { KubeApi, KubeObject } from "./kubeApi";

interface ServiceObject extends KubeObject {
  readonly spec?: { readonly type?: string; readonly loadBalancerIP?: string };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { ip?: string }[] } };
}

export class StandInLoadBalancer {
  private timer?: NodeJS.Timeout;
  private next = 10;
  private busy = false;
  private lastError = "";
  /** Addresses given, by namespace/name. */
  readonly assigned = new Map<string, string>();

  constructor(private readonly api: KubeApi) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const services = (await this.api.list("/api/v1/services")) as ServiceObject[];
      for (const service of services) {
        if (service.spec?.type !== "LoadBalancer" || service.status?.loadBalancer?.ingress?.length) continue;
        const key = `${service.metadata.namespace}/${service.metadata.name}`;
        const ip = service.spec.loadBalancerIP || this.assigned.get(key) || `198.51.100.${this.next++}`;
        await this.api.mergePatch(
          `/api/v1/namespaces/${service.metadata.namespace}/services/${service.metadata.name}/status`,
          { status: { loadBalancer: { ingress: [{ ip }] } } },
        );
        this.assigned.set(key, ip);
        log(`stand-in load balancer: Service ${key} gets address ${ip}`);
      }
      this.lastError = "";
    } catch (error) {
      // A Service deleted between list and patch, or the API restarting: try again next tick.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastError) log(`stand-in load balancer: ${message}`);
      this.lastError = message;
    } finally {
      this.busy = false;
    }
  }
}

/**
 * The existing cluster's default StorageClass, as its CSI driver would install it (on OpenStack,
 * Cinder CSI's). No provisioner runs here: with WaitForFirstConsumer a claim stays Pending until a
 * pod uses it, which is what the Kubernetes provider waits for with such a class (with Immediate it
 * waits for Bound, which nothing here would do).
 */
export async function createStandInStorageClass(api: KubeApi): Promise<string> {
  const name = "e2e-stand-in";
  await api.create("/apis/storage.k8s.io/v1/storageclasses", {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "stand-in.e2e.istio-openstack",
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  });
  return name;
}
