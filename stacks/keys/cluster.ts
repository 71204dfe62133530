import { z } from "zod";
import { key } from "../spec";
import { nonEmptyString } from "../types";

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
      "Keystone URL (OS_AUTH_URL) the in-cluster OpenStack cloud-controller-manager and Cinder CSI authenticate against with the cluster's application credential. Required in kubeadm mode.",
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
  readinessTimeoutSeconds: key({
    type: "integer",
    description:
      "How long the readiness gate waits for the new API server's /readyz before failing the update (nodes install packages first).",
    schema: z.int().min(60, "must be at least 60 s").max(3600, "must be at most 3600 s"),
    default: 900,
  }),
};
