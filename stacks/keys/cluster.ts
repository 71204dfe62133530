import { z } from "zod";
import { key } from "../spec";
import { nonEmptyString } from "../types";

/**
 * The roles the in-cluster cloud provider needs, unless cloudProviderRoles says otherwise: `member`
 * (Nova servers, Neutron ports and floating IPs, Cinder volumes) and, where the cloud has Octavia,
 * `load-balancer_member`, the role Octavia's default policy asks for
 * (docs.openstack.org/octavia/latest/configuration/policy.html).
 */
export function defaultCloudProviderRoles(loadBalancerProvider: string | undefined): string[] {
  return loadBalancerProvider === "none" ? ["member"] : ["member", "load-balancer_member"];
}

export const clusterKeys = {
  clusterMode: key({
    type: "string",
    description:
      "kubeadm: build the whole platform on Nova. openstack-only: the OpenStack layer alone (nodes prepared, no Kubernetes bootstrap or mesh; what the real-engine test deploys). existing: install the mesh onto an existing cluster (Magnum or any) from existingKubeconfig.",
    schema: z.enum(["kubeadm", "openstack-only", "existing"]),
    default: "kubeadm",
  }),
  existingKubeconfig: key({
    type: "string",
    secret: true,
    description: "existing mode: kubeconfig of the cluster to install the mesh onto. Set with --secret.",
    schema: nonEmptyString,
    optional: true,
  }),
  keystoneUrl: key({
    type: "string",
    description:
      "Keystone URL the in-cluster OpenStack cloud-controller-manager and Cinder CSI authenticate against. Unset: the deployer's own (the clouds.yaml entry's auth_url, else OS_AUTH_URL); kubeadm mode refuses a stack where neither names one. https outside dev unless allowInsecureHttp.",
    schema: z.url({
      protocol: /^https?$/,
      error: "expected an http(s) URL such as https://keystone.example.com:5000/v3",
    }),
    optional: true,
  }),
  joinTokenTtlMinutes: key({
    type: "integer",
    description:
      "How long a join window stays open: the bootstrap token new nodes join with is valid this long after `pulumi up` creates or replaces a node (and after `kubeadm init`), then expires. Long enough for a node to boot and install its packages.",
    schema: z.int().min(15, "must be at least 15 minutes").max(1440, "must be at most 1440 minutes (a day)"),
    default: 120,
  }),
  allowInsecureHttp: key({
    type: "boolean",
    description:
      "Accept http:// for keystoneUrl (given or derived) and chartRepositories outside dev: credentials and charts would travel unencrypted. Off: staging and prod refuse them.",
    schema: z.boolean(),
    default: false,
  }),
  cloudProviderCredential: key({
    type: "string",
    yamlDocument: true,
    secret: true,
    description:
      "An application credential you created for the in-cluster cloud-controller-manager and Cinder CSI, as YAML {id, secret}; set with --secret. Unset: the program creates one, which Keystone allows only to a password or an unrestricted application credential (see deployerCredentialUnrestricted).",
    schema: z.strictObject({
      id: z.string().regex(/^[0-9a-f]{32}$/i, "expected a Keystone id (32 hex digits)"),
      secret: nonEmptyString,
    }),
    optional: true,
  }),
  cloudProviderRoles: key({
    type: "array",
    description:
      "Roles of the application credential the program creates for the in-cluster cloud provider (the deployer must hold them). Unset: member, plus load-balancer_member when the cloud has Octavia.",
    schema: z.array(nonEmptyString).min(1, "list at least one role (member)"),
    optional: true,
  }),
  cloudProviderCredentialGeneration: key({
    type: "integer",
    description:
      "Bump to rotate the application credential the program creates: the next pulumi up creates a new one, hands it to the cloud provider and Cinder CSI (their pods restart), then deletes the old one.",
    schema: z.int().min(0).max(999),
    default: 0,
  }),
  deployerCredentialUnrestricted: key({
    type: "boolean",
    description:
      "The deployer's own application credential was created --unrestricted, so it may create the in-cluster one. Off: a deployer authenticated by an application credential must give cloudProviderCredential.",
    schema: z.boolean(),
    default: false,
  }),
  readinessTimeoutSeconds: key({
    type: "integer",
    description:
      "How long the readiness gate waits for the new API server's /readyz before failing the update (nodes install packages first).",
    schema: z.int().min(60, "must be at least 60 s").max(3600, "must be at most 3600 s"),
    default: 900,
  }),
};
