/**
 * Credentials stay secret. What a policy can enforce, and what it cannot:
 * - Policies see inputs with secrets already unwrapped, so "is this input a Pulumi secret?" cannot be
 *   asked of an input. What is visible: resource options (additionalSecretOutputs) and where
 *   credential material sits in the inputs.
 * - Stack outputs are not visible to policies at all: that the `kubeconfig` output is a secret is
 *   checked by tests/outputs-contract.test.ts instead.
 * So the pack checks: an application credential's `secret` output is declared secret, and commands
 * never carry kubeconfig or key material in their command line (visible in process lists, in the
 * provider's error messages and in the diff) but only through `environment`/`stdin`, with their
 * stdout/stderr declared secret so nothing they print lands in the state as plain text.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Props, record, text } from "./props";

export const APPLICATION_CREDENTIAL = "openstack:identity/applicationCredential:ApplicationCredential";
export const COMMAND_TYPES = ["command:local:Command", "command:remote:Command"];

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const KUBECONFIG_CREDENTIAL = /(client-key-data|client-certificate-data)\s*:\s*\S/;
const KUBECONFIG_TOKEN = /kind\s*:\s*Config[\s\S]*\btoken\s*:\s*\S/;

/** Whether a value (or anything nested in it) holds a private key or kubeconfig credentials. */
export function holdsCredentialMaterial(value: unknown): boolean {
  if (typeof value === "string") {
    return PRIVATE_KEY.test(value) || KUBECONFIG_CREDENTIAL.test(value) || KUBECONFIG_TOKEN.test(value);
  }
  if (Array.isArray(value)) return value.some(holdsCredentialMaterial);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsCredentialMaterial);
  return false;
}

export const applicationCredentialSecret: ResourceValidationPolicy = {
  name: "application-credential-secret",
  description:
    "An OpenStack application credential's secret is declared a secret output (never plain text in the state).",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: (args, reportViolation) => {
    if (args.type !== APPLICATION_CREDENTIAL) return;
    if (!args.opts.additionalSecretOutputs.includes("secret")) {
      reportViolation(
        "the application credential's `secret` is not in additionalSecretOutputs: it would be stored in plain text",
      );
    }
  },
};

const COMMAND_LINES = ["create", "update", "delete"] as const;

/** What is wrong with how a command handles credential material, if anything. */
export function commandCredentialViolations(props: Props, additionalSecretOutputs: readonly string[]): string[] {
  const violations = COMMAND_LINES.filter((key) => holdsCredentialMaterial(props[key])).map(
    (key) => `\`${key}\` carries a kubeconfig or private key in the command line; pass it through environment or stdin`,
  );
  const handles =
    violations.length > 0 ||
    holdsCredentialMaterial(record(props.environment)) ||
    holdsCredentialMaterial(text(props.stdin));
  if (handles) {
    const missing = ["stdout", "stderr"].filter((name) => !additionalSecretOutputs.includes(name));
    if (missing.length > 0) {
      violations.push(`handles credentials but ${missing.join(" and ")} not in additionalSecretOutputs`);
    }
  }
  return violations;
}

export const commandCredentialsNotInline: ResourceValidationPolicy = {
  name: "command-credentials-not-inline",
  description:
    "Commands get kubeconfigs and keys through environment or stdin, never in the command line, and keep their output secret.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Pass the kubeconfig as environment: { KUBECONFIG_DATA: pulumi.secret(kubeconfig) }, write it to a temp file in the script, and set additionalSecretOutputs: ["stdout", "stderr"].',
  validateResource: (args, reportViolation) => {
    if (!COMMAND_TYPES.includes(args.type)) return;
    for (const violation of commandCredentialViolations(args.props, args.opts.additionalSecretOutputs)) {
      reportViolation(violation);
    }
  },
};

/** An unrestricted application credential can mint further credentials and trusts. */
export function unrestrictedCredential(props: Props): boolean {
  return props.unrestricted === true;
}

export const applicationCredentialRestricted: ResourceValidationPolicy = {
  name: "application-credential-restricted",
  description:
    "Application credentials for in-cluster components are not unrestricted (they could create further credentials).",
  enforcementLevel: "advisory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    if (args.type !== APPLICATION_CREDENTIAL) return;
    if (unrestrictedCredential(args.props)) {
      reportViolation("unrestricted: true lets whoever reads it (every OCCM/CSI pod's secret) create more credentials");
    }
  },
};
