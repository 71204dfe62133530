/**
 * Every version this project pins, in one place.
 *
 * Upgrade path: change a version here, run `npm run plan -- --stack dev` and `npm test`, read the
 * plan diff (rendered user data and Helm values land in plan/<stack>/), then roll it out stack by
 * stack (dev → staging → prod). Kubernetes node upgrades: see docs/operations.md;
 * Istio upgrades are a canary: add a revision, move the tags, remove the old revision.
 */

/**
 * Kubernetes as the nodes install it (kubeadm, kubelet, kubectl) and as the e2e harness builds it.
 * 1.36: supported upstream until mid-2027 and by Istio 1.31 (1.32-1.36); 1.33 reached end of life
 * on 2026-06-28. The Calico and cloud-provider-openstack charts below are chosen for this minor.
 */
export const kubernetes = {
  version: "1.36.3",
} as const;

/**
 * What node preparation installs from apt (components/cluster/bootstrap/scripts/node-prepare.sh), each
 * from the upstream repository below or the same path under a stack's `nodePackageMirror`.
 *
 * containerd: Kubernetes 1.35 was the last release to support containerd 1.x ("Final call for containerd
 * v1.X", kubernetes.io blog, Kubernetes v1.35 release, 2025-12-17; announced in "Kubernetes v1.34:
 * Autoconfiguration for Node Cgroup Driver Goes GA", 2025-09-12), so 1.36 nodes need 2.x. Ubuntu 24.04 and
 * Debian 12 ship 1.7 and 1.6: the nodes install Docker's `containerd.io` build instead, the repository the
 * Kubernetes documentation points to for containerd packages. 2.3 is containerd's first annual LTS release
 * (supported at least two years, built against Kubernetes 0.36 libraries), the line Docker's packaging has
 * shipped as stable since 2026-08 (docker/packaging e4253ef); 2.3.4 is its newest patch seen (2026-08).
 * Upgrade: change `version`, roll the nodes (docs/operations.md); `apt-cache madison containerd.io` on a
 * node lists what the repository (or your mirror) offers.
 */
export const nodePackages = {
  kubernetes: {
    /** pkgs.k8s.io serves one repository per minor: `${repository}/v1.36/deb/`. */
    repository: "https://pkgs.k8s.io/core:/stable:",
    /** The Debian revision pkgs.k8s.io builds carry: kubeadm=1.36.3-1.1. */
    debianRevision: "1.1",
  },
  containerd: {
    package: "containerd.io",
    version: "2.3.4",
    debianRevision: "1",
    /** `${repository}/<distribution id>` (ubuntu, debian), suite = the release's codename, component stable. */
    repository: "https://download.docker.com/linux",
  },
} as const;

/** Tool versions of the real-engine harness (e2e/). Built from the Go module proxy where no binary exists. */
export const toolchain = {
  pulumiCli: "3.274.1",
  /** Last Node.js language host published as a tagged module the proxy serves (see shared/E2E-FACTS.md). */
  pulumiLanguageNodejs: "3.68.0",
  /** The Terraform provider bridged into pulumi-resource-openstack, and the SDK version it is registered as. */
  terraformProviderOpenstack: "3.4.0",
  pulumiTerraformBridge: "3.120.0",
  pulumiOpenstackSdk: "3.15.2",
  helm: "3.22.0",
  kwok: "0.7.0",
  /** Lints .github/workflows in `npm test` (tools/actionlint.sh builds it from the Go module proxy). */
  actionlint: "1.7.12",
} as const;

/**
 * A Helm chart pinned to an exact version, with its default source. A stack can point any chart at
 * a mirror (config key `chartRepositories`), but never float its version.
 */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
  /** An HTTP(S) chart repository, or an oci:// registry path that holds the chart. */
  readonly repository: string;
}

/** Cluster add-ons installed by the cluster layer (CNI, OpenStack cloud provider, Cinder CSI). */
export const clusterCharts = {
  // Calico 3.32 supports Kubernetes 1.34-1.36; from 3.32 on its CRDs come in a chart of their own.
  calicoCrds: {
    chart: "crd.projectcalico.org.v1",
    version: "v3.32.4",
    repository: "https://docs.tigera.io/calico/charts",
  },
  tigeraOperator: { chart: "tigera-operator", version: "v3.32.4", repository: "https://docs.tigera.io/calico/charts" },
  // cloud-provider-openstack: chart 2.<minor>.x follows Kubernetes 1.<minor>.
  openstackCloudControllerManager: {
    chart: "openstack-cloud-controller-manager",
    version: "2.36.5",
    repository: "https://kubernetes.github.io/cloud-provider-openstack",
  },
  openstackCinderCsi: {
    chart: "openstack-cinder-csi",
    version: "2.36.2",
    repository: "https://kubernetes.github.io/cloud-provider-openstack",
  },
  // Approves kubelet serving certificates (chart version = the project's release tag, v1.2.14 of
  // 2026-04; the project follows the three newest Kubernetes minors).
  kubeletCsrApprover: {
    chart: "kubelet-csr-approver",
    version: "1.2.14",
    repository: "https://postfinance.github.io/kubelet-csr-approver",
  },
} as const satisfies Record<string, PinnedChart>;

/**
 * Istio and its observability stack. Istio's charts moved with 1.31 to blob.istio.io (HTTP) and
 * ghcr.io (OCI); the old istio-release.storage.googleapis.com host is being retired. Every chart
 * here can be pointed at a mirror per stack (`chartRepositories`), never at another version.
 * Verified (see docs/versions.md): Istio 1.31.1 is the latest 1.31 patch (2026-09-21, security fix);
 * Kiali 2.31.0 is what Istio 1.31.1's own samples/addons/kiali.yaml renders.
 */
export const istio = {
  version: "1.31.1",
  /** Where base, istiod and gateway live; the OCI twin is oci://ghcr.io/istio/release/charts. */
  repository: "https://blob.istio.io/istio-release/charts",
} as const;

export const meshCharts = {
  base: { chart: "base", version: istio.version, repository: istio.repository },
  istiod: { chart: "istiod", version: istio.version, repository: istio.repository },
  gateway: { chart: "gateway", version: istio.version, repository: istio.repository },
  /** The istio-cni node agent (release istio-cni): ambient's traffic redirection, optional in sidecar mode. */
  cni: { chart: "cni", version: istio.version, repository: istio.repository },
  /** Ambient's per-node proxy. */
  ztunnel: { chart: "ztunnel", version: istio.version, repository: istio.repository },
  prometheus: {
    chart: "prometheus",
    version: "29.35.0",
    repository: "https://prometheus-community.github.io/helm-charts",
  },
  /** Grafana's charts moved from grafana.github.io to the grafana-community organisation. */
  grafana: { chart: "grafana", version: "13.2.6", repository: "https://grafana-community.github.io/helm-charts" },
  kiali: { chart: "kiali-server", version: "2.31.0", repository: "https://kiali.org/helm-charts" },
  /** Jaeger v2 (OpenTelemetry-based) all-in-one. */
  jaeger: { chart: "jaeger", version: "4.14.1", repository: "https://jaegertracing.github.io/helm-charts" },
} as const satisfies Record<string, PinnedChart>;

/**
 * Kubernetes Gateway API CRDs, standard channel: the version the pinned Istio builds against (Istio
 * 1.31's go.mod requires sigs.k8s.io/gateway-api v1.6.0; v1.6.1 is its patch release). They are
 * committed under components/mesh/gateway-api/v<version>/ (see gatewayApiCrds.ts for why).
 * Upgrade path: with a new Istio minor, add the standard-channel files of the version its go.mod
 * requires as a new folder, change the version here, run the tests (they compare the folder with
 * ../shared/charts/gateway-api-crds), and `pulumi up` updates the CRDs in place.
 */
export const gatewayApi = { version: "1.6.1", channel: "standard" } as const;

/**
 * Istio's Grafana dashboards, the files Istio's repository ships at each release tag
 * (manifests/addons/dashboards; the same names at 1.30.0 and on release-1.31). Taken from the tag of
 * the Istio version in use, they match it by construction: istio.io asks for "the appropriate
 * revision for the Istio version you are deploying" and grafana.com's revision numbers cannot be
 * checked offline. They use a `datasource` variable (no `__inputs`), so Grafana provisions them as
 * downloaded. Upgrade: list the folder at the new tag and rename here what moved.
 */
export const istioDashboards = {
  /** Where a release's dashboards live; a stack may point at a mirror instead (grafanaDashboardsUrl). */
  source: (version: string) => `https://raw.githubusercontent.com/istio/istio/${version}/manifests/addons/dashboards`,
  files: {
    "istio-mesh": "istio-mesh-dashboard.gen.json",
    "istio-service": "istio-service-dashboard.json",
    "istio-workload": "istio-workload-dashboard.json",
    "istio-control-plane": "pilot-dashboard.gen.json",
    "istio-performance": "istio-performance-dashboard.json",
    "istio-wasm-extension": "istio-extension-dashboard.json",
    "istio-ztunnel": "ztunnel-dashboard.gen.json",
  },
} as const;
