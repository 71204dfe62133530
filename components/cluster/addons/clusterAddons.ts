import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterCharts, type PinnedChart } from "../../../lib/versions";
import { type ChartRepositoryOverrides, chartObjects, chartRelease } from "../../charts";
import { metadataGuard } from "./metadataGuard";
import {
  type CloudConfigInput,
  cinderCsiValues,
  kubeletCsrApproverValues,
  occmValues,
  tigeraOperatorValues,
} from "./values";

export interface ClusterAddonsArgs {
  readonly clusterName: string;
  readonly podCidr: string;
  /** The node network's MTU (Neutron's): Calico subtracts its VXLAN overhead. */
  readonly networkMtu: pulumi.Input<number>;
  readonly chartRepositories: ChartRepositoryOverrides;
  /** Inputs of the OpenStack cloud config; the application credential secret makes the values secret. */
  readonly cloud: pulumi.Input<Omit<CloudConfigInput, "clusterName">>;
  /** Addresses a kubelet may have in its serving certificate (node subnet, node floating IPs). */
  readonly nodeAddressPrefixes: pulumi.Input<pulumi.Input<string>[]>;
  /** The application credential's id (not a secret): rolls Cinder CSI when the credential is rotated. */
  readonly credentialId: pulumi.Input<string>;
}

/**
 * What a kubeadm cluster on OpenStack needs before workloads: Calico (pod network, MTU from the
 * Neutron network), the OpenStack cloud-controller-manager (node initialization, Octavia for
 * LoadBalancer Services), Cinder CSI with a default StorageClass, and the approver of the kubelets'
 * serving certificates (which the API server verifies). Installed by helm.v3.Release through the
 * cluster's provider (passed by the parent), each after what it really needs only: Calico and the
 * cloud-controller-manager side by side, Cinder CSI and the approver after them.
 */
export class ClusterAddons extends pulumi.ComponentResource {
  /** The pod network: what every pod off the host network needs. */
  readonly podNetwork: pulumi.Resource[];
  /**
   * The cloud-controller-manager: nodes stay tainted "uninitialized" (no ordinary pod is scheduled)
   * until it has seen them, and it gives LoadBalancer Services their Octavia address.
   */
  readonly cloudProvider: pulumi.Resource[];
  /** Cinder CSI and its default StorageClass: what a PersistentVolumeClaim needs. */
  readonly storage: pulumi.Resource[];

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:cluster:ClusterAddons", name, {}, opts);
    const release = (
      logicalName: string,
      pinned: PinnedChart,
      namespace: string,
      values: pulumi.Input<object>,
      dependsOn: pulumi.Resource[] = [],
    ) =>
      chartRelease(
        logicalName,
        {
          releaseName: logicalName,
          chart: pinned,
          namespace,
          createNamespace: namespace !== "kube-system",
          values,
          chartRepositories: args.chartRepositories,
        },
        { parent: this, dependsOn },
      );

    // Applied server-side by the provider, no release record: as a Helm release this chart's record
    // would take 951 KB of a Secret's 1 MiB. The operator's release waits for every CRD.
    const calicoCrds = chartObjects(
      "calico-crds",
      {
        chart: clusterCharts.calicoCrds,
        namespace: "tigera-operator",
        values: {},
        chartRepositories: args.chartRepositories,
      },
      { parent: this },
    );
    // Before calico-node runs (it only needs the CRDs), so no pod ever starts without the guard;
    // the policy after its tier.
    let previous: pulumi.Resource = calicoCrds;
    for (const object of metadataGuard()) {
      previous = new k8s.apiextensions.CustomResource(
        `${args.clusterName}-${object.kind.toLowerCase()}-${object.metadata.name}`,
        { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
        { parent: this, dependsOn: previous === calicoCrds ? [calicoCrds] : [calicoCrds, previous] },
      );
    }
    const calico = release(
      "calico",
      clusterCharts.tigeraOperator,
      "tigera-operator",
      pulumi.output(args.networkMtu).apply((networkMtu) => tigeraOperatorValues({ podCidr: args.podCidr, networkMtu })),
      [calicoCrds],
    );
    // Not after Calico: it runs on the host network and tolerates the not-ready taint (OCCM_TOLERATIONS).
    const occm = release(
      "openstack-cloud-controller-manager",
      clusterCharts.openstackCloudControllerManager,
      "kube-system",
      pulumi.secret(
        pulumi.output(args.cloud).apply((cloud) => occmValues({ ...cloud, clusterName: args.clusterName })),
      ),
    );
    // Kept after both: its controller pods need the pod network and an initialised node, and it
    // mounts the cloud-config Secret the cloud-controller-manager's release creates.
    const cinder = release(
      "openstack-cinder-csi",
      clusterCharts.openstackCinderCsi,
      "kube-system",
      pulumi.output(args.credentialId).apply((id) => cinderCsiValues(args.clusterName, id)),
      [calico, occm],
    );
    // Its pods tolerate only the control-plane taint: they wait for OCCM to initialize the nodes.
    // Until it runs, kubelet serving CSRs stay pending (logs, exec and metrics wait, nothing else).
    // Nothing waits for it: only logs, exec and metrics need the kubelets' serving certificates.
    release(
      "kubelet-csr-approver",
      clusterCharts.kubeletCsrApprover,
      "kube-system",
      pulumi
        .output(args.nodeAddressPrefixes)
        .apply((ipPrefixes) => kubeletCsrApproverValues({ clusterName: args.clusterName, ipPrefixes })),
      [occm],
    );
    this.podNetwork = [calico];
    this.cloudProvider = [occm];
    this.storage = [cinder];
    this.registerOutputs({});
  }
}
