/**
 * Istio's conventions that more than one layer relies on (the mesh installs into this namespace;
 * observability points Kiali and Prometheus at it).
 */
export const ISTIO_NAMESPACE = "istio-system";

/**
 * The ingress gateway's NodePorts when they are fixed: without an amphora in front (Octavia's OVN
 * provider, or no Octavia) clients reach them directly, and the workers' security group opens
 * exactly these.
 */
export const INGRESS_NODE_PORTS = { http: 30080, https: 30443 } as const;
