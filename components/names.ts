/**
 * Names are an API: a resource's logical name is part of its URN, so renaming it replaces the
 * resource. Every name comes from here, derived from the cluster name, the role and an index.
 */
export function resourceName(clusterName: string, ...parts: (string | number)[]): string {
  return [clusterName, ...parts.map(String)].join("-");
}

/** A stable, readable token for a CIDR inside a name: 203.0.113.0/24 → 203-0-113-0-24. */
export function cidrToken(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}
