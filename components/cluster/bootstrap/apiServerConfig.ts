/**
 * What a control-plane node's kube-apiserver reads besides kubeadm's own files, as pure renderers:
 * the audit policy, encryption of Secrets at rest and Pod Security Admission's cluster-wide
 * defaults. The flags that point at them and the static pod volumes that mount them come from here
 * too, so files, flags and mounts cannot drift apart. The bootstrap ring (npm run e2e:bootstrap)
 * starts the real kube-apiserver with exactly these and checks what each one does.
 *
 * CIS Kubernetes Benchmark v1.12, as kube-bench encodes it (cfg/cis-1.12/master.yaml): 1.2.5
 * kubelet certificate authority, 1.2.15 profiling, 1.2.16-1.2.19 audit log, 1.2.27-1.2.28 encryption
 * provider; policies 5.2 (Pod Security).
 */
import { stringify } from "yaml";

export const APISERVER_CONFIG_DIR = "/etc/kubernetes/apiserver";
export const AUDIT_LOG_DIR = "/var/log/kubernetes/audit";
const CLUSTER_CA = "/etc/kubernetes/pki/ca.crt";

export const apiServerFiles = {
  auditPolicy: `${APISERVER_CONFIG_DIR}/audit-policy.yaml`,
  encryption: `${APISERVER_CONFIG_DIR}/encryption-config.yaml`,
  admission: `${APISERVER_CONFIG_DIR}/admission-config.yaml`,
} as const;

/** Audit log retention, CIS 1.2.17-1.2.19: 30 days, 10 files of 100 MB. */
export const AUDIT_LOG_RETENTION = { maxAgeDays: 30, maxBackups: 10, maxSizeMb: 100 } as const;

/**
 * Who did what, without ever a secret's value: Secrets, ConfigMaps (which often carry credentials),
 * token requests and token reviews are logged at Metadata (who, when, which object), other writes
 * with their request body, reads at Metadata. Health probes, events, leases (every node's heartbeat)
 * and kube-proxy's watches are left out: they are most of the volume and tell nobody anything.
 */
export function auditPolicy() {
  const core = (...resources: string[]) => ({ group: "", resources });
  return {
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [
      { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
      {
        level: "None",
        resources: [
          core("events"),
          { group: "events.k8s.io", resources: ["events"] },
          { group: "coordination.k8s.io", resources: ["leases"] },
        ],
      },
      {
        level: "None",
        users: ["system:kube-proxy"],
        verbs: ["watch"],
        resources: [core("endpoints", "services"), { group: "discovery.k8s.io", resources: ["endpointslices"] }],
      },
      {
        level: "Metadata",
        resources: [
          core("secrets", "configmaps", "serviceaccounts/token"),
          { group: "authentication.k8s.io", resources: ["tokenreviews"] },
        ],
      },
      { level: "Request", verbs: ["create", "update", "patch", "delete", "deletecollection"] },
      { level: "Metadata" },
    ],
  };
}

export interface EncryptionKey {
  /** Names the key in the stored data (k8s:enc:secretbox:v1:<name>:…); a new name is a new key. */
  readonly name: string;
  /** 32 random bytes, base64. Secret. */
  readonly secretBase64: string;
}

/**
 * Secrets encrypted at rest with secretbox (XSalsa20-Poly1305): Kubernetes' "Encrypting Confidential
 * Data at Rest" ranks it strong and fast, and advises against aescbc (padding oracle) and aesgcm
 * without automatic rotation. `identity` after it reads what was stored before encryption was on.
 */
export function encryptionConfiguration(key: EncryptionKey) {
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "EncryptionConfiguration",
    resources: [
      {
        resources: ["secrets"],
        providers: [{ secretbox: { keys: [{ name: key.name, secret: key.secretBase64 }] } }, { identity: {} }],
      },
    ],
  };
}

/**
 * Namespaces whose pods need the host by design (host network, privileged containers): the control
 * plane's and Calico's. Exempt in the cluster-wide defaults because Helm or an operator creates them,
 * not this program (the namespaces the program creates carry their own labels: podSecurityLabels).
 */
export const POD_SECURITY_EXEMPT_NAMESPACES = ["kube-system", "tigera-operator", "calico-system"] as const;

/**
 * Pod Security Admission for the whole cluster: every namespace without labels of its own enforces
 * `baseline` (no host namespaces, host paths, privileged containers or added capabilities), and
 * audits and warns at `restricted`.
 */
export function admissionConfiguration() {
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: "baseline",
            "enforce-version": "latest",
            audit: "restricted",
            "audit-version": "latest",
            warn: "restricted",
            "warn-version": "latest",
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: [...POD_SECURITY_EXEMPT_NAMESPACES] },
        },
      },
    ],
  };
}

/** kube-apiserver flags (kubeadm ClusterConfiguration.apiServer.extraArgs). */
export function apiServerArgs(): Record<string, string> {
  return {
    profiling: "false",
    "audit-policy-file": apiServerFiles.auditPolicy,
    "audit-log-path": `${AUDIT_LOG_DIR}/audit.log`,
    "audit-log-maxage": String(AUDIT_LOG_RETENTION.maxAgeDays),
    "audit-log-maxbackup": String(AUDIT_LOG_RETENTION.maxBackups),
    "audit-log-maxsize": String(AUDIT_LOG_RETENTION.maxSizeMb),
    "encryption-provider-config": apiServerFiles.encryption,
    // A new key (rotation) is picked up without restarting the API server.
    "encryption-provider-config-automatic-reload": "true",
    "admission-control-config-file": apiServerFiles.admission,
    // Verify the kubelets' serving certificates (signed by the cluster CA through TLS bootstrap).
    "kubelet-certificate-authority": CLUSTER_CA,
  };
}

/** The static pod's mounts for those files (kubeadm ClusterConfiguration.apiServer.extraVolumes). */
export const apiServerVolumes = [
  {
    name: "apiserver-config",
    hostPath: APISERVER_CONFIG_DIR,
    mountPath: APISERVER_CONFIG_DIR,
    readOnly: true,
    pathType: "DirectoryOrCreate",
  },
  {
    name: "audit-log",
    hostPath: AUDIT_LOG_DIR,
    mountPath: AUDIT_LOG_DIR,
    readOnly: false,
    pathType: "DirectoryOrCreate",
  },
] as const;

export interface ApiServerFile {
  readonly path: string;
  readonly content: string;
}

/** The files every control-plane node's user data writes for its kube-apiserver (all mode 0600). */
export function apiServerConfigFiles(key: EncryptionKey): ApiServerFile[] {
  const yaml = (document: object) => stringify(document, { lineWidth: 0 });
  return [
    { path: apiServerFiles.auditPolicy, content: yaml(auditPolicy()) },
    { path: apiServerFiles.encryption, content: yaml(encryptionConfiguration(key)) },
    { path: apiServerFiles.admission, content: yaml(admissionConfiguration()) },
  ];
}
