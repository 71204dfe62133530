/** The consumer's configuration: typed, validated before anything is created. */
import * as pulumi from "@pulumi/pulumi";

export interface FaultInjection {
  /** Delay this percentage of requests by fixedDelay (e.g. "5s"). */
  readonly delay?: { readonly percent: number; readonly fixedDelay: string };
  /** Answer this percentage of requests with httpStatus instead of calling httpbin. */
  readonly abort?: { readonly percent: number; readonly httpStatus: number };
}

export interface ConsumerConfig {
  /** The platform stack: org/istio-openstack/<stack>, or a plain stack name with a DIY backend. */
  readonly platformStack: string;
  readonly namespace: string;
  /** Percent of httpbin traffic sent to v2; v1 gets the rest. */
  readonly canaryWeight: number;
  /** With a Gateway API platform: the host name httpbin is published on through its Gateway. */
  readonly hostname: string;
  readonly faultInjection?: FaultInjection;
}

export interface RawConsumerConfig {
  readonly platformStack?: string;
  readonly namespace?: string;
  readonly canaryWeight?: number;
  readonly hostname?: string;
  readonly faultInjection?: unknown;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/;
const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;

/** `pulumi config set --path` may store numbers as strings. */
const numeric = (v: unknown): unknown =>
  typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
const isPercent = (n: unknown): n is number =>
  typeof numeric(n) === "number" && (numeric(n) as number) >= 0 && (numeric(n) as number) <= 100;

function parseFault(raw: unknown, problems: string[]): FaultInjection | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null) {
    problems.push("faultInjection: expected an object with delay and/or abort");
    return undefined;
  }
  const { delay, abort } = raw as { delay?: Record<string, unknown>; abort?: Record<string, unknown> };
  const fault: { delay?: FaultInjection["delay"]; abort?: FaultInjection["abort"] } = {};
  if (delay !== undefined) {
    const fixedDelay = String(delay.fixedDelay ?? "");
    if (!isPercent(delay.percent)) problems.push("faultInjection.delay.percent: expected 0-100");
    if (!DURATION.test(fixedDelay))
      problems.push(`faultInjection.delay.fixedDelay: expected a duration like 5s (got "${fixedDelay}")`);
    fault.delay = { percent: Number(delay.percent), fixedDelay };
  }
  if (abort !== undefined) {
    const status = numeric(abort.httpStatus ?? 503);
    if (!isPercent(abort.percent)) problems.push("faultInjection.abort.percent: expected 0-100");
    if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
      problems.push("faultInjection.abort.httpStatus: expected an HTTP status 200-599");
    }
    fault.abort = { percent: Number(abort.percent), httpStatus: Number(status) };
  }
  if (!fault.delay && !fault.abort) problems.push("faultInjection: give delay, abort or both");
  return fault;
}

/** Validates raw values; throws one error listing every problem. */
export function parseConsumerConfig(raw: RawConsumerConfig): ConsumerConfig {
  const problems: string[] = [];
  const platformStack = raw.platformStack ?? "";
  if (!platformStack) problems.push("platformStack: required (e.g. my-org/istio-openstack/dev)");
  const namespace = raw.namespace ?? "mesh-demo";
  if (!DNS_LABEL.test(namespace)) problems.push(`namespace: expected a DNS label (got "${namespace}")`);
  const canaryWeight = raw.canaryWeight ?? 10;
  if (!Number.isInteger(canaryWeight) || canaryWeight < 0 || canaryWeight > 100) {
    problems.push(`canaryWeight: expected an integer 0-100 (got ${canaryWeight})`);
  }
  const hostname = raw.hostname ?? "httpbin.example.com";
  if (!HOSTNAME.test(hostname))
    problems.push(`hostname: expected a DNS host name like httpbin.example.com (got "${hostname}")`);
  const faultInjection = parseFault(raw.faultInjection, problems);
  if (problems.length > 0) throw new Error(`Invalid mesh-consumer configuration:\n  - ${problems.join("\n  - ")}`);
  return { platformStack, namespace, canaryWeight, hostname, ...(faultInjection ? { faultInjection } : {}) };
}

export function loadConsumerConfig(): ConsumerConfig {
  const config = new pulumi.Config();
  return parseConsumerConfig({
    platformStack: config.get("platformStack"),
    namespace: config.get("namespace"),
    canaryWeight: config.getNumber("canaryWeight"),
    hostname: config.get("hostname"),
    faultInjection: config.getObject<unknown>("faultInjection"),
  });
}
