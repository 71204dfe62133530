// A consumer of the istio-openstack platform: reads the platform's outputs through a StackReference,
// deploys Istio's sleep and httpbin samples into an injected namespace, splits httpbin's traffic
// between v1 and v2 behind a circuit breaker, and checks that the sidecars are really there.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { sidecarCheck } from "./src/check";
import { loadConsumerConfig } from "./src/config";
import { readPlatform } from "./src/platform";
import { HTTPBIN_VERSIONS, httpbinDeployment, httpbinService, sleepDeployment } from "./src/samples";
import { httpbinDestinationRule, httpbinVirtualService } from "./src/traffic";

const config = loadConsumerConfig();
const platform = readPlatform(config.platformStack);
const provider = new k8s.Provider("platform", { kubeconfig: platform.kubeconfig });
const inCluster: pulumi.CustomResourceOptions = { provider };

const namespace = new k8s.core.v1.Namespace(
  config.namespace,
  { metadata: { name: config.namespace, labels: platform.injectionLabel } },
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

new k8s.apiextensions.CustomResource("httpbin-destination-rule", httpbinDestinationRule(config.namespace), inNamespace);
new k8s.apiextensions.CustomResource(
  "httpbin-virtual-service",
  httpbinVirtualService(config.namespace, config.canaryWeight, config.faultInjection),
  inNamespace,
);

const check = sidecarCheck("sidecar-check", {
  namespace: ns,
  kubeconfig: platform.kubeconfig,
  after: [sleep, ...httpbin],
});

export const clusterName = platform.clusterName;
export const namespaceName = ns;
export const split = { v1: 100 - config.canaryWeight, v2: config.canaryWeight };
export const sidecarCheckResult = check.stdout;
