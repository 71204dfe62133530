/**
 * What a node installs and where from, as pure functions of typed settings: the apt repositories of
 * Kubernetes and containerd (upstream or a mirror), the container runtime's configuration, the
 * registry mirror containerd pulls through, a private CA, and an HTTP(S) proxy. Rendered into
 * bootstrap.env entries and files cloud-init writes before node-prepare.sh runs.
 */
import type { WriteFile } from "./cloudInit";

/** Where the node's packages come from, resolved (upstream or a mirror) and pinned. */
export interface NodePackageSources {
  /** The Kubernetes deb repository of the minor (suite "/"), e.g. https://pkgs.k8s.io/core:/stable:/v1.36/deb/. */
  readonly kubernetesRepository: string;
  /** kubelet, kubeadm and kubectl: the Debian version, e.g. 1.36.3-1.1. */
  readonly kubernetesPackageVersion: string;
  /** Base of the containerd repository: the node appends its distribution id (/ubuntu, /debian). */
  readonly containerdRepository: string;
  readonly containerdPackage: string;
  /** The upstream version and Debian revision, e.g. 2.3.4-1 (the repository adds ~<distribution> suffixes). */
  readonly containerdPackageVersion: string;
  /**
   * ASCII-armored public keys that sign both repositories (a mirror's, from config). Absent: each
   * repository's own published key, downloaded over TLS from it.
   */
  readonly signingKeys?: readonly string[];
}

/** An image registry every upstream registry is redirected to: `host[:port]` plus an optional path prefix. */
export interface RegistryMirror {
  readonly host: string;
  /** "" or "/<path>" (no trailing slash). */
  readonly prefix: string;
}

/** An HTTP(S) proxy for the node's own downloads: apt, containerd's pulls, the kubelet. */
export interface NodeProxy {
  readonly url: string;
  /** Hosts, domains (leading dot) and CIDRs reached directly. */
  readonly noProxy: readonly string[];
}

export interface NodeSoftware {
  readonly packages: NodePackageSources;
  /** Every image pull of the node goes to this registry (containerd's hosts.toml per upstream registry). */
  readonly registryMirror?: RegistryMirror;
  /** The upstream registries containerd redirects to the mirror. */
  readonly mirroredRegistries?: readonly string[];
  /** The pod sandbox ("pause") image, when it must come from somewhere else than containerd's default. */
  readonly sandboxImage?: string;
  /** PEM certificates of a private CA the mirrors' TLS certificates chain to. */
  readonly caBundle?: string;
  readonly proxy?: NodeProxy;
}

const KEYRINGS = "/etc/apt/keyrings";
export const CONTAINERD_DROP_IN = "/etc/containerd/conf.d/10-istio-openstack.toml";
export const CONTAINERD_HOSTS_DIR = "/etc/containerd/certs.d";
/** update-ca-certificates picks up *.crt files here into the system store (apt, curl, containerd). */
export const MIRROR_CA_FILE = "/usr/local/share/ca-certificates/istio-openstack-mirror.crt";

/** Keys from config, one file each (apt reads armored keys from *.asc files; signed-by takes a list). */
function signingKeyFiles(keys: readonly string[]): WriteFile[] {
  return keys.map((key, index) => ({
    path: `${KEYRINGS}/istio-openstack-mirror-${index}.asc`,
    content: key.endsWith("\n") ? key : `${key}\n`,
    permissions: "0644",
  }));
}

/** Splits armored key text into its blocks (one file per key keeps each readable by apt). */
export function armoredBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g)].map(
    (match) => match[0],
  );
}

/**
 * containerd's configuration beside `containerd config default` (containerd 2.x imports
 * /etc/containerd/conf.d/*.toml and merges each over the main file). `version = 4` is the schema the
 * pinned 2.3 writes itself (an older one would be migrated, with a warning in the node's log). The
 * kubelet's cgroupDriver is systemd, so runc's must be too.
 */
export function containerdDropIn(software: NodeSoftware): string {
  const lines = [
    "# Written by cloud-init (istio-openstack), merged over `containerd config default`.",
    "version = 4",
    "",
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    "  SystemdCgroup = true",
  ];
  if (software.sandboxImage) {
    lines.push("", "[plugins.'io.containerd.cri.v1.images'.pinned_images]", `  sandbox = '${software.sandboxImage}'`);
  }
  if (software.registryMirror) {
    lines.push("", "[plugins.'io.containerd.cri.v1.images'.registry]", `  config_path = '${CONTAINERD_HOSTS_DIR}'`);
  }
  return `${lines.join("\n")}\n`;
}

/** The mirror as an OCI distribution root for one upstream registry (the registry kept as a path element). */
export function mirrorRoot(mirror: RegistryMirror, registry: string): string {
  return `${mirror.host}${mirror.prefix}/${registry}`;
}

/**
 * containerd's hosts.toml for one upstream registry: the mirror is the `server`, not a `host` tried
 * first, so containerd never falls back to the public registry (containerd docs/hosts.md). The
 * repository lives under `<prefix>/<registry>/` on the mirror, so the API root carries that path
 * (`override_path`).
 */
export function registryHostsToml(mirror: RegistryMirror, registry: string, caFile?: string): string {
  const [host, ...path] = mirrorRoot(mirror, registry).split("/");
  return [
    "# This registry's images come from the mirror only (it is the server: no fallback upstream).",
    `server = "https://${host}/v2/${path.join("/")}"`,
    "override_path = true",
    'capabilities = ["pull", "resolve"]',
    ...(caFile ? [`ca = "${caFile}"`] : []),
    "",
  ].join("\n");
}

/** The mirror's own name (images the charts reference on it directly), trusted through the CA when given. */
function mirrorHostToml(mirror: RegistryMirror, caFile: string): string {
  return [`server = "https://${mirror.host}"`, `ca = "${caFile}"`, ""].join("\n");
}

/** Environment for systemd units (containerd, the kubelet): both spellings, as programs read either. */
function proxyEnvironment(proxy: NodeProxy): string {
  const noProxy = proxy.noProxy.join(",");
  const pairs = [
    ["HTTP_PROXY", proxy.url],
    ["HTTPS_PROXY", proxy.url],
    ["NO_PROXY", noProxy],
    ["http_proxy", proxy.url],
    ["https_proxy", proxy.url],
    ["no_proxy", noProxy],
  ];
  return ["[Service]", ...pairs.map(([name, value]) => `Environment="${name}=${value}"`), ""].join("\n");
}

/**
 * apt's proxy: it takes no CIDRs, so the noProxy host names and addresses become DIRECT entries
 * (Acquire::http::Proxy::<host>, apt.conf(5)); CIDRs only matter for the cluster's own traffic.
 */
function aptProxy(proxy: NodeProxy): string {
  const hosts = proxy.noProxy.filter((entry) => !entry.includes("/")).map((entry) => entry.replace(/^\./, ""));
  return [
    `Acquire::http::Proxy "${proxy.url}";`,
    `Acquire::https::Proxy "${proxy.url}";`,
    ...hosts.flatMap((host) => [`Acquire::http::Proxy::${host} "DIRECT";`, `Acquire::https::Proxy::${host} "DIRECT";`]),
    "",
  ].join("\n");
}

/** bootstrap.env entries node-prepare.sh reads. */
export function nodeSoftwareEnvironment(software: NodeSoftware): Record<string, string> {
  const { packages, proxy } = software;
  const keys = signingKeyFiles(packages.signingKeys ?? []);
  return {
    KUBERNETES_APT_SOURCE: packages.kubernetesRepository,
    KUBERNETES_PACKAGE_VERSION: packages.kubernetesPackageVersion,
    CONTAINERD_APT_SOURCE: packages.containerdRepository,
    CONTAINERD_PACKAGE: packages.containerdPackage,
    CONTAINERD_PACKAGE_VERSION: packages.containerdPackageVersion,
    ...(keys.length > 0 ? { APT_SIGNED_BY: keys.map((file) => file.path).join(",") } : {}),
    ...(software.caBundle ? { MIRROR_CA_FILE } : {}),
    ...(proxy ? { NODE_HTTP_PROXY: proxy.url, NODE_NO_PROXY: proxy.noProxy.join(",") } : {}),
  };
}

/** Files cloud-init writes before node-prepare.sh runs. */
export function nodeSoftwareFiles(software: NodeSoftware): WriteFile[] {
  const { registryMirror: mirror, proxy } = software;
  const caFile = software.caBundle ? MIRROR_CA_FILE : undefined;
  return [
    ...(software.caBundle
      ? [
          {
            path: MIRROR_CA_FILE,
            content: software.caBundle.endsWith("\n") ? software.caBundle : `${software.caBundle}\n`,
            permissions: "0644" as const,
          },
        ]
      : []),
    ...signingKeyFiles(software.packages.signingKeys ?? []),
    { path: CONTAINERD_DROP_IN, content: containerdDropIn(software), permissions: "0644" },
    ...(mirror
      ? (software.mirroredRegistries ?? []).map((registry) => ({
          path: `${CONTAINERD_HOSTS_DIR}/${registry}/hosts.toml`,
          content: registryHostsToml(mirror, registry, caFile),
          permissions: "0644" as const,
        }))
      : []),
    ...(mirror && caFile
      ? [
          {
            path: `${CONTAINERD_HOSTS_DIR}/${mirror.host}/hosts.toml`,
            content: mirrorHostToml(mirror, caFile),
            permissions: "0644" as const,
          },
        ]
      : []),
    ...(proxy
      ? [
          {
            path: "/etc/systemd/system/containerd.service.d/http-proxy.conf",
            content: proxyEnvironment(proxy),
            permissions: "0644" as const,
          },
          {
            path: "/etc/systemd/system/kubelet.service.d/http-proxy.conf",
            content: proxyEnvironment(proxy),
            permissions: "0644" as const,
          },
          {
            path: "/etc/apt/apt.conf.d/90istio-openstack-proxy",
            content: aptProxy(proxy),
            permissions: "0644" as const,
          },
        ]
      : []),
  ];
}
