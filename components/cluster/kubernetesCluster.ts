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
  /** Every Nova instance's id: a new or replaced instance opens a join window. */
  readonly nodeInstanceIds: pulumi.Input<string>[];
  readonly readinessTimeoutSeconds: number;
  /** How long the join token stays valid after a window opens. */
  readonly joinWindowMinutes: number;
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
  /** Opens the join window (mints the bootstrap token into the cluster); its delete revokes it. */
  readonly joinWindow: command.local.Command;

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

    // The join token lives only as long as a window: nodes created with the cluster join with the
    // token kubeadm init registered; `pulumi up` opens a new window whenever an instance is created
    // or replaced (scale-up, roll, a node deleted behind Pulumi's back), never on other updates. The
    // token's value changes with the set of nodes (ClusterPki), so an old one is dead for good.
    // A command rather than a Secret resource: Kubernetes' token cleaner deletes an expired token's
    // Secret, which a resource would re-create (already expired) after every refresh.
    const credentials = {
      API_ENDPOINT: args.endpointAddress,
      CA_PEM: args.pki.clusterCa.certPem,
      CLIENT_CERT_PEM: args.pki.adminCertPem,
      CLIENT_KEY_PEM: args.pki.adminKeyPem,
      TOKEN: args.pki.bootstrapToken,
    };
    const joinTokenScript = bootstrapScript("join-token.sh");
    this.joinWindow = new command.local.Command(
      `${name}-join-window`,
      {
        create: `ACTION=mint\n${joinTokenScript}`,
        delete: `ACTION=revoke\n${joinTokenScript}`,
        interpreter: ["/bin/bash", "-c"],
        environment: { ...credentials, TTL_SECONDS: String(args.joinWindowMinutes * 60) },
        triggers: [args.pki.bootstrapTokenId, ...args.nodeInstanceIds],
      },
      {
        parent: this,
        dependsOn: [this.readinessGate],
        // Revoke the old window first: with the same token id, a create first would be undone.
        deleteBeforeReplace: true,
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );

    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [this.readinessGate] },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
