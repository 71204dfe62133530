/** Reusable validators for configuration values: each one says what it expects in words a user can act on. */
import { z } from "zod";
import { isWorldOpen, parseCidr, parseIpv4 } from "../lib/cidr";

export const nonEmptyString = z.string().trim().min(1, "must not be empty");

export const cidr = z
  .string()
  .refine((text) => parseCidr(text) !== undefined, "expected an IPv4 CIDR with no host bits set, such as 10.20.0.0/22");

export const ipv4 = z
  .string()
  .refine((text) => parseIpv4(text) !== undefined, "expected an IPv4 address such as 10.20.0.10");

/** An exact version: floating versions (latest, 1.31, 1.31.x, ^1.2.3) make two runs of the same config differ. */
export const exactVersion = z
  .string()
  .regex(/^\d+\.\d+\.\d+$/, "expected an exact version such as 1.2.3 (no 'latest', ranges or wildcards)");

/** A lowercase DNS label (RFC 1123): usable in OpenStack names, Kubernetes names and host names alike. */
export const dnsLabel = (maxLength: number) =>
  z
    .string()
    .max(maxLength, `must be at most ${maxLength} characters`)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "expected lowercase letters, digits and '-', starting with a letter");

/** A Kubernetes qualified name (optional DNS prefix + name): the key syntax of labels and annotations alike. */
export const kubernetesQualifiedName = (what: string) =>
  z
    .string()
    .regex(
      /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
      `expected a Kubernetes ${what}`,
    );

export const openstackUuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "expected an OpenStack UUID");

export const adminCidr = cidr;
export { isWorldOpen };
