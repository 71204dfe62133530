/** The admin kubeconfig, built in the program from Pulumi-owned PKI: no file is copied off a node. */
import { stringify } from "yaml";

export interface KubeconfigInput {
  readonly clusterName: string;
  /** host or host:port */
  readonly server: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly user?: string;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

export function renderKubeconfig(input: KubeconfigInput): string {
  const user = input.user ?? `${input.clusterName}-admin`;
  const server = input.server.includes(":") ? input.server : `${input.server}:6443`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: input.clusterName,
        cluster: { server: `https://${server}`, "certificate-authority-data": b64(input.caCertPem) },
      },
    ],
    users: [
      {
        name: user,
        user: { "client-certificate-data": b64(input.clientCertPem), "client-key-data": b64(input.clientKeyPem) },
      },
    ],
    contexts: [{ name: input.clusterName, context: { cluster: input.clusterName, user } }],
    "current-context": input.clusterName,
  });
}
