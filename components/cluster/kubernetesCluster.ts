import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { bootstrapScript } from "./bootstrap/cloudInit";
import { renderKubeconfig } from "./kubeconfig";
import type { ClusterPki } from "./pki";

export interface KubernetesClusterArgs {
  readonly clusterName: string;
  readonly endpointAddress: pulumi.Input<string>;
  readonly pki: ClusterPki;
  /** The nodes and load-balancer members: the gate starts waiting only once they exist. */
  readonly nodes: pulumi.Resource[];
  readonly readinessTimeoutSeconds: number;
}

/**
 * The cluster as clients see it: the admin kubeconfig (built from Pulumi-owned PKI, a secret), a
 * readiness gate that waits for /readyz with the CA pinned, and the Kubernetes provider every
 * later layer uses. The provider depends on the gate, so no Kubernetes resource is attempted early.
 */
export class KubernetesCluster extends pulumi.ComponentResource {
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly readinessGate: command.local.Command;

  constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-openstack:cluster:KubernetesCluster", name, {}, opts);

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([args.endpointAddress, args.pki.clusterCa.certPem, args.pki.adminCertPem, args.pki.adminKeyPem])
        .apply(([server, caCertPem, clientCertPem, clientKeyPem]) =>
          renderKubeconfig({ clusterName: args.clusterName, server, caCertPem, clientCertPem, clientKeyPem }),
        ),
    );

    this.readinessGate = new command.local.Command(
      `${name}-readyz`,
      {
        create: bootstrapScript("readyz-wait.sh"),
        interpreter: ["/bin/bash", "-c"],
        environment: {
          API_ENDPOINT: args.endpointAddress,
          CA_PEM: args.pki.clusterCa.certPem,
          TIMEOUT_SECONDS: String(args.readinessTimeoutSeconds),
        },
        // Runs again when the endpoint or the CA changes, not on every update.
        triggers: [args.endpointAddress, args.pki.caCertHash],
      },
      { parent: this, dependsOn: args.nodes },
    );

    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [this.readinessGate] },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
