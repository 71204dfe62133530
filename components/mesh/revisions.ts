/**
 * Revisions and revision tags, decided before anything is created.
 *
 * A revision is one istiod per Istio version (1.31.1 → `1-31-1`). A tag is an alias namespaces opt
 * into (`istio.io/rev=<tag>`); moving it to another revision is the canary switch. Istio's Helm
 * guide renders a tag from the istiod chart's `revisionTags` value (templates/revision-tags-mwc.yaml,
 * revision-tags-svc.yaml) and applies it *outside* any revision's release, so that it can move
 * between revisions without changing hands between two Helm releases. We do the same: the tag's
 * MutatingWebhookConfiguration and Service are plain Kubernetes resources owned by Pulumi, rendered
 * here from the same template, so moving a tag is one in-place update (no window without injection).
 */
import type * as k8s from "@pulumi/kubernetes";
import { ISTIO_NAMESPACE } from "../../lib/istio";

export interface Revision {
  /** Istio version, e.g. 1.31.1; also the chart version of this revision's istiod. */
  readonly version: string;
  /** Revision name: the version with dots as dashes (1-31-1). */
  readonly name: string;
}

export interface RevisionTag {
  readonly tag: string;
  readonly revision: Revision;
}

export interface RevisionPlan {
  readonly revisions: readonly Revision[];
  readonly tags: readonly RevisionTag[];
  /** The revision the `default` tag points at: base's defaultRevision (cluster-wide validation). */
  readonly defaultRevision: Revision;
  /** The newest revision: its chart version installs base (CRDs upgrade before the canary istiod). */
  readonly newest: Revision;
}

export function revisionName(version: string): string {
  return version.replace(/\./g, "-");
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Config validation guarantees every tag points at a listed version and `default` exists. */
export function planRevisions(versions: readonly string[], tags: Readonly<Record<string, string>>): RevisionPlan {
  const revisions = [...versions]
    .sort(compareVersions)
    .map((version): Revision => ({ version, name: revisionName(version) }));
  const byVersion = new Map(revisions.map((r) => [r.version, r]));
  const resolved = Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tag, version]): RevisionTag => {
      const revision = byVersion.get(version);
      if (!revision) throw new Error(`revision tag ${tag} points at ${version}, which is not a listed revision`);
      return { tag, revision };
    });
  const defaultTag = resolved.find((t) => t.tag === "default");
  if (!defaultTag) throw new Error("the 'default' revision tag is required");
  return { revisions, tags: resolved, defaultRevision: defaultTag.revision, newest: revisions[revisions.length - 1] };
}

/** The one label a namespace carries to join the mesh through a tag. */
export function injectionLabel(tag: string): Record<string, string> {
  return { "istio.io/rev": tag };
}

/**
 * The label a namespace carries to join the mesh: its tag (sidecar), or the ambient data plane. Never
 * both: Istio's injector does not look at the ambient label, so `istio.io/rev` on an ambient namespace
 * gives its pods sidecars, and "the sidecar mode currently takes precedence" (istio.io,
 * ambient/usage/add-workloads).
 */
export function meshMembershipLabel(mode: "sidecar" | "ambient", tag: string): Record<string, string> {
  return mode === "ambient" ? { "istio.io/dataplane-mode": "ambient" } : injectionLabel(tag);
}

type Webhook = k8s.types.input.admissionregistration.v1.MutatingWebhook;
type Selector = k8s.types.input.meta.v1.LabelSelectorRequirement;

function tagLabels(tag: RevisionTag): Record<string, string> {
  return {
    "istio.io/tag": tag.tag,
    "istio.io/rev": tag.revision.name,
    app: "sidecar-injector",
    "app.kubernetes.io/name": "istiod",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

function webhook(
  prefix: string,
  revision: Revision,
  namespaceSelector: Selector[],
  objectSelector: Selector[],
): Webhook {
  return {
    name: `${prefix}sidecar-injector.istio.io`,
    clientConfig: {
      service: { name: `istiod-${revision.name}`, namespace: ISTIO_NAMESPACE, path: "/inject", port: 443 },
    },
    sideEffects: "None",
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
    failurePolicy: "Fail",
    reinvocationPolicy: "Never",
    admissionReviewVersions: ["v1"],
    namespaceSelector: { matchExpressions: namespaceSelector },
    objectSelector: { matchExpressions: objectSelector },
  };
}

const notDisabled: Selector = { key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] };

/** As istiod 1.31's templates/revision-tags-mwc.yaml renders one tag (namespace preference mode). */
export function tagWebhookConfiguration(
  tag: RevisionTag,
): k8s.types.input.admissionregistration.v1.MutatingWebhookConfiguration {
  const { revision } = tag;
  const webhooks: Webhook[] = [
    webhook(
      "rev.namespace.",
      revision,
      [
        { key: "istio.io/rev", operator: "In", values: [tag.tag] },
        { key: "istio-injection", operator: "DoesNotExist" },
      ],
      [notDisabled],
    ),
    webhook(
      "rev.object.",
      revision,
      [
        { key: "istio.io/rev", operator: "DoesNotExist" },
        { key: "istio-injection", operator: "DoesNotExist" },
      ],
      [notDisabled, { key: "istio.io/rev", operator: "In", values: [tag.tag] }],
    ),
  ];
  if (tag.tag === "default") {
    // The default tag also serves pods that ask for injection without naming a revision.
    webhooks.push(
      webhook("namespace.", revision, [{ key: "istio-injection", operator: "In", values: ["enabled"] }], [notDisabled]),
      webhook(
        "object.",
        revision,
        [
          { key: "istio-injection", operator: "DoesNotExist" },
          { key: "istio.io/rev", operator: "DoesNotExist" },
        ],
        [
          { key: "sidecar.istio.io/inject", operator: "In", values: ["true"] },
          { key: "istio.io/rev", operator: "DoesNotExist" },
        ],
      ),
    );
  }
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: `istio-revision-tag-${tag.tag}`, labels: tagLabels(tag) },
    webhooks,
  };
}

/** As templates/revision-tags-svc.yaml: a stable istiod address per tag. */
export function tagService(tag: RevisionTag): k8s.types.input.core.v1.Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: `istiod-revision-tag-${tag.tag}`,
      namespace: ISTIO_NAMESPACE,
      labels: { ...tagLabels(tag), app: "istiod", istio: "pilot" },
    },
    spec: {
      ports: [
        { port: 15010, name: "grpc-xds", protocol: "TCP" },
        { port: 15012, name: "https-dns", protocol: "TCP" },
        { port: 443, name: "https-webhook", targetPort: 15017, protocol: "TCP" },
        { port: 15014, name: "http-monitoring", protocol: "TCP" },
      ],
      selector: { app: "istiod", "istio.io/rev": tag.revision.name },
    },
  };
}
