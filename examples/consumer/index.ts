// A consumer of the istio-openstack platform: reads the platform's outputs through a StackReference,
// deploys Istio's sleep and httpbin samples into a namespace in the mesh, splits httpbin's traffic
// between v1 and v2 behind a circuit breaker, and checks that the pods are really in the mesh. It
// follows the platform's shape: in ambient mode it adds a waypoint for its namespace (the split is
// L7); with Gateway API ingress it publishes httpbin on the platform's Gateway with an HTTPRoute.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { sidecarCheck } from "./src/check";
import { loadConsumerConfig } from "./src/config";
import { httpbinRoute, namespaceLabels, namespaceWaypoint } from "./src/gateway";
import { readPlatform } from "./src/platform";
import { HTTPBIN_VERSIONS, httpbinDeployment, httpbinService, sleepDeployment } from "./src/samples";
import { httpbinDestinationRule, httpbinVirtualService } from "./src/traffic";

const config = loadConsumerConfig();
const platform = readPlatform(config.platformStack);
const provider = new k8s.Provider("platform", { kubeconfig: platform.kubeconfig });

/** Everything in the cluster, once the platform's mesh shape (plain values from its outputs) is known. */
async function deploy() {
  const mesh = await platform.mesh;
  const inCluster: pulumi.CustomResourceOptions = { provider };
  const namespace = new k8s.core.v1.Namespace(
    config.namespace,
    {
      metadata: {
        name: config.namespace,
        labels: platform.injectionLabel.apply((label) => namespaceLabels(label, mesh)),
      },
    },
    inCluster,
  );
  const inNamespace: pulumi.CustomResourceOptions = { provider, dependsOn: [namespace] };
  const ns = namespace.metadata.name;

  for (const account of ["sleep", "httpbin"]) {
    new k8s.core.v1.ServiceAccount(account, { metadata: { name: account, namespace: ns } }, inNamespace);
  }
  const sleep = new k8s.apps.v1.Deployment("sleep", sleepDeployment(config.namespace), inNamespace);
  const httpbin = HTTPBIN_VERSIONS.map(
    (version) =>
      new k8s.apps.v1.Deployment(`httpbin-${version}`, httpbinDeployment(config.namespace, version), inNamespace),
  );
  new k8s.core.v1.Service("httpbin", httpbinService(config.namespace), inNamespace);

  new k8s.apiextensions.CustomResource(
    "httpbin-destination-rule",
    httpbinDestinationRule(config.namespace),
    inNamespace,
  );
  new k8s.apiextensions.CustomResource(
    "httpbin-virtual-service",
    httpbinVirtualService(config.namespace, config.canaryWeight, config.faultInjection),
    inNamespace,
  );
  if (mesh.dataplaneMode === "ambient") {
    new k8s.apiextensions.CustomResource(
      "waypoint",
      namespaceWaypoint(config.namespace, mesh.revisionTag),
      inNamespace,
    );
  }
  if (mesh.gateway) {
    new k8s.apiextensions.CustomResource(
      "httpbin-route",
      httpbinRoute(config.namespace, config.hostname, mesh.gateway),
      inNamespace,
    );
  }

  const check = sidecarCheck("sidecar-check", {
    namespace: ns,
    mode: mesh.dataplaneMode,
    kubeconfig: platform.kubeconfig,
    after: [sleep, ...httpbin],
  });
  return {
    namespace: ns,
    check: check.stdout,
    // Where httpbin answers from outside: the platform's Gateway, by host name (null with the classic gateway).
    ingressHost: mesh.gateway ? config.hostname : null,
  };
}

const deployed = pulumi.output(deploy());

export const clusterName = platform.clusterName;
export const namespaceName = deployed.namespace;
export const split = { v1: 100 - config.canaryWeight, v2: config.canaryWeight };
export const sidecarCheckResult = deployed.check;
export const ingressHost = deployed.ingressHost;
