/**
 * Cross-key rules of the mesh and observability keys. Appended to `crossKeyRules` in checks.ts; each
 * rule reads only keys that passed their own schema.
 */
import type { ConfigProblem } from "./errors";
import type { ConfigValues } from "./keys";

type PartialConfig = Partial<ConfigValues>;
type Rule = (config: PartialConfig) => ConfigProblem[];

/** Every tag points at a listed revision, and the `default` tag exists (it drives base's defaultRevision). */
const revisionTags: Rule = (config) => {
  const { istioRevisions: revisions, istioRevisionTags: tags } = config;
  if (revisions === undefined || tags === undefined) return [];
  const problems: ConfigProblem[] = Object.entries(tags)
    .filter(([, version]) => !revisions.includes(version))
    .map(([tag, version]) => ({
      path: `istioRevisionTags.${tag}`,
      given: version,
      expected: `must be one of istioRevisions (${revisions.join(", ")}); add the revision first, then move the tag`,
    }));
  const injectionTag = config.meshInjectionTag;
  if (injectionTag !== undefined && !(injectionTag in tags)) {
    problems.push({
      path: "meshInjectionTag",
      given: injectionTag,
      expected: `must be one of istioRevisionTags (${Object.keys(tags).join(", ")})`,
    });
  }
  if (!("default" in tags)) {
    problems.push({
      path: "istioRevisionTags",
      given: Object.keys(tags).join(", ") || "(none)",
      expected: "must include the tag 'default' (it picks the default revision: validation and base's defaultRevision)",
    });
  }
  return problems;
};

/** Namespaces Kubernetes itself owns. */
const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"];

const namespaceTags: Rule = (config) => {
  const { meshNamespaces: namespaces, istioRevisionTags: tags } = config;
  if (namespaces === undefined || tags === undefined) return [];
  const reserved = new Set(["istio-system", "istio-egress", config.ingressGatewayNamespace ?? "istio-ingress"]);
  return Object.entries(namespaces).flatMap(([namespace, tag]): ConfigProblem[] => {
    if (SYSTEM_NAMESPACES.includes(namespace)) {
      return [
        {
          path: `meshNamespaces.${namespace}`,
          given: tag,
          expected:
            "is a Kubernetes system namespace: labelling it would inject sidecars into the cluster's own components (and the program would take it over); choose an application namespace",
        },
      ];
    }
    if (reserved.has(namespace)) {
      return [
        {
          path: `meshNamespaces.${namespace}`,
          given: tag,
          expected: "is managed by the mesh itself; choose an application namespace",
        },
      ];
    }
    return tag in tags
      ? []
      : [
          {
            path: `meshNamespaces.${namespace}`,
            given: tag,
            expected: `must be one of istioRevisionTags (${Object.keys(tags).join(", ")})`,
          },
        ];
  });
};

/** Matches the CrossGuard pack (policy/mesh.ts): outside dev, no PeerAuthentication weakens mTLS. */
const strictOutsideDev: Rule = (config) => {
  if (config.environment === undefined || config.environment === "dev") return [];
  const problems: ConfigProblem[] = [];
  if (config.meshMtlsMode === "PERMISSIVE") {
    problems.push({
      path: "meshMtlsMode",
      given: "PERMISSIVE",
      expected: `${config.environment} keeps mesh-wide mTLS STRICT (the policy pack's mesh-wide-strict-mtls refuses anything else)`,
    });
  }
  (config.meshPermissiveNamespaces ?? []).forEach((namespace, index) => {
    problems.push({
      path: `meshPermissiveNamespaces[${index}]`,
      given: namespace,
      expected: `plaintext exceptions are for dev; ${config.environment} refuses PERMISSIVE (policy peer-authentication-strict)`,
    });
  });
  return problems;
};

const anonymousKiali: Rule = (config) => {
  if (config.kialiAuthStrategy !== "anonymous" || config.environment === undefined) return [];
  if (config.environment === "dev" || config.allowAnonymousKiali) return [];
  return [
    {
      path: "kialiAuthStrategy",
      given: "anonymous",
      expected: `lets anyone who reaches Kiali change mesh config, refused in ${config.environment}; use token (or set allowAnonymousKiali: true to accept the risk)`,
    },
  ];
};

const gatewayAvailability: Rule = (config) => {
  const problems: ConfigProblem[] = [];
  const { ingressGatewayReplicas: replicas, ingressGatewayMaxReplicas: max } = config;
  if (replicas !== undefined && max !== undefined && max < replicas) {
    problems.push({
      path: "ingressGatewayMaxReplicas",
      given: max,
      expected: `must be at least ingressGatewayReplicas (${replicas})`,
    });
  }
  if (config.environment === "prod") {
    if (replicas !== undefined && replicas < 2) {
      problems.push({
        path: "ingressGatewayReplicas",
        given: replicas,
        expected: "prod needs at least 2 gateway replicas (one node drain must not cut ingress)",
      });
    }
    if (config.ingressGatewayPodDisruptionBudget === false) {
      problems.push({
        path: "ingressGatewayPodDisruptionBudget",
        given: false,
        expected: "prod keeps a PodDisruptionBudget on the ingress gateway",
      });
    }
  }
  return problems;
};

const kialiExposure: Rule = (config) => {
  if (config.kialiHost !== undefined && config.kialiTlsSecret === undefined) {
    return [{ path: "kialiTlsSecret", expected: "required when kialiHost is set (Kiali is only exposed over TLS)" }];
  }
  if (config.kialiHost === undefined && config.kialiTlsSecret !== undefined) {
    return [
      {
        path: "kialiTlsSecret",
        given: config.kialiTlsSecret,
        expected: "only used with kialiHost; set kialiHost or remove it",
      },
    ];
  }
  return [];
};

/**
 * Data-plane and ingress combinations that cannot work (evidence in docs/mesh-modes.md): ambient
 * without its node agent; REGISTRY_ONLY in ambient, which ztunnel does not enforce (istio/ztunnel
 * has no outbound traffic policy; istio/istio#54281), so the stack would promise a control that is
 * not there; waypoints without ambient, or for a namespace that is not in the mesh.
 */
const dataplaneModes: Rule = (config) => {
  const problems: ConfigProblem[] = [];
  const ambient = config.meshDataplaneMode === "ambient";
  const waypoints = config.meshWaypoints ?? [];
  if (ambient && config.istioCni === false) {
    problems.push({
      path: "istioCni",
      given: false,
      expected:
        "meshDataplaneMode ambient needs the istio-cni node agent (it redirects ambient pods to ztunnel): remove the key or set it true",
    });
  }
  if (ambient && config.meshOutboundTrafficPolicy === "REGISTRY_ONLY") {
    problems.push({
      path: "meshOutboundTrafficPolicy",
      given: "REGISTRY_ONLY",
      expected:
        "ALLOW_ANY with meshDataplaneMode ambient: ztunnel does not enforce REGISTRY_ONLY (only sidecars and waypoints read it); control egress with egressGateway (an egress waypoint) and AuthorizationPolicy",
    });
  }
  if (!ambient && waypoints.length > 0) {
    problems.push({
      path: "meshWaypoints",
      given: waypoints.join(", "),
      expected:
        "waypoints exist only with meshDataplaneMode ambient (in sidecar mode every pod's sidecar is its L7 proxy): remove the key or switch the mode",
    });
  }
  if (ambient && config.meshNamespaces !== undefined) {
    const meshNamespaces = Object.keys(config.meshNamespaces);
    waypoints.forEach((namespace, index) => {
      if (meshNamespaces.includes(namespace)) return;
      problems.push({
        path: `meshWaypoints[${index}]`,
        given: namespace,
        expected: `must be one of meshNamespaces (${meshNamespaces.join(", ") || "none"}): a waypoint serves a namespace in the ambient mesh`,
      });
    });
  }
  const replicas = config.meshWaypointReplicas;
  if (ambient && config.environment === "prod" && replicas !== undefined && replicas < 2) {
    problems.push({
      path: "meshWaypointReplicas",
      given: replicas,
      expected: "prod needs at least 2 waypoint replicas (one node drain must not cut a namespace's L7 path)",
    });
  }
  return problems;
};

export const meshRules: readonly Rule[] = [
  revisionTags,
  namespaceTags,
  strictOutsideDev,
  anonymousKiali,
  gatewayAvailability,
  kialiExposure,
  dataplaneModes,
];
