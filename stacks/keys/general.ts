import { z } from "zod";
import { ENVIRONMENTS, key } from "../spec";
import { dnsLabel, nonEmptyString } from "../types";

export const generalKeys = {
  environment: key({
    type: "string",
    description:
      "Which environment's defaults and guard rails apply: dev, staging or prod. Defaults to the stack name when it is one of those.",
    schema: z.enum(ENVIRONMENTS),
    defaultText: "the stack name",
    default: ({ environment }) => environment,
  }),
  clusterName: key({
    type: "string",
    description:
      "Name of the cluster: prefixes every OpenStack resource and names the Kubernetes cluster (lowercase DNS label).",
    schema: dnsLabel(40),
    defaultText: "mesh-<stack>",
    default: ({ stack }) => `mesh-${stack}`,
  }),
  openstackCloud: key({
    type: "string",
    description:
      "Entry of clouds.yaml to use (OS_CLOUD). Unset: the provider reads the OS_* environment variables or OS_CLOUD.",
    schema: nonEmptyString,
    optional: true,
  }),
  openstackRegion: key({
    type: "string",
    description: "OpenStack region. Unset: the region of the credentials (OS_REGION_NAME or clouds.yaml).",
    schema: nonEmptyString,
    optional: true,
  }),
  chartRepositories: key({
    type: "string",
    yamlDocument: true,
    description:
      "Per-chart source overrides, as a YAML map of chart name to an HTTP(S) repository or an oci:// path (internal mirrors). Versions stay pinned.",
    schema: z.record(
      nonEmptyString,
      z.string().regex(/^(https?|oci):\/\/\S+$/, "expected an https://, http:// or oci:// chart source"),
    ),
    default: {},
  }),
  protectResources: key({
    type: "boolean",
    description:
      "Set Pulumi's protect flag on what must never be deleted by accident (network, control-plane nodes, API load balancer, the cluster's CAs and service-account and encryption keys).",
    schema: z.boolean(),
    default: { perEnvironment: { dev: false, staging: true, prod: true } },
  }),
};
