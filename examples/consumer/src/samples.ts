/**
 * Istio's classic samples as plain manifests (pure): `sleep`, a client with curl, and `httpbin` in two
 * versions behind one Service. The version label is what the DestinationRule's subsets select.
 */
import type * as k8s from "@pulumi/kubernetes";

export const IMAGES = {
  sleep: "docker.io/curlimages/curl:8.11.1",
  httpbin: "docker.io/mccutchen/go-httpbin:v2.15.0",
} as const;

export const HTTPBIN_PORT = 8000;
const HTTPBIN_CONTAINER_PORT = 8080;

export type HttpbinVersion = "v1" | "v2";
export const HTTPBIN_VERSIONS: readonly HttpbinVersion[] = ["v1", "v2"];

export function sleepDeployment(namespace: string): k8s.apps.v1.DeploymentArgs {
  const labels = { app: "sleep" };
  return {
    metadata: { name: "sleep", namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: "sleep",
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: "sleep",
              image: IMAGES.sleep,
              command: ["/bin/sleep", "infinity"],
              resources: { requests: { cpu: "10m", memory: "16Mi" } },
            },
          ],
        },
      },
    },
  };
}

export function httpbinDeployment(namespace: string, version: HttpbinVersion): k8s.apps.v1.DeploymentArgs {
  const labels = { app: "httpbin", version };
  return {
    metadata: { name: `httpbin-${version}`, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: "httpbin",
          containers: [
            {
              name: "httpbin",
              image: IMAGES.httpbin,
              ports: [{ containerPort: HTTPBIN_CONTAINER_PORT, name: "http" }],
              resources: { requests: { cpu: "10m", memory: "32Mi" } },
            },
          ],
        },
      },
    },
  };
}

/** One Service over both versions: the mesh, not the Service, decides which version answers. */
export function httpbinService(namespace: string): k8s.core.v1.ServiceArgs {
  return {
    metadata: { name: "httpbin", namespace, labels: { app: "httpbin", service: "httpbin" } },
    spec: {
      selector: { app: "httpbin" },
      ports: [{ name: "http", port: HTTPBIN_PORT, targetPort: HTTPBIN_CONTAINER_PORT }],
    },
  };
}
