/**
 * Istio's conventions that more than one layer relies on (the mesh installs into this namespace;
 * observability points Kiali and Prometheus at it).
 */
export const ISTIO_NAMESPACE = "istio-system";
