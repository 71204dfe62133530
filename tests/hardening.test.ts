/**
 * The control plane's hardening as the program renders it: audit policy, Secrets encrypted at rest,
 * Pod Security Admission defaults, kubelet serving certificates that the API server verifies (and
 * the approver that signs them off), and the key material that must never be replaced by accident.
 * The real kube-apiserver proves the behaviour of the same files in the bootstrap ring
 * (npm run e2e:bootstrap); these tests pin what each node receives.
 */
import { parse as parseYaml } from "yaml";
import type { kubeletCsrApproverValues } from "../components/cluster/addons/values";
import {
  admissionConfiguration,
  apiServerArgs,
  apiServerFiles,
  apiServerVolumes,
  auditPolicy,
  encryptionConfiguration,
} from "../components/cluster/bootstrap/apiServerConfig";
import { metadataGuarded } from "../policy/security";
import { type Evaluation, evaluateStack } from "./harness";

const INSTANCE = "openstack:compute/instance:Instance";
const RELEASE = "kubernetes:helm.sh/v3:Release";

interface AuditRule {
  level: string;
  users?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
  resources?: { group: string; resources: string[] }[];
}

/** The level the API server logs a request at: the first rule that matches it (audit.k8s.io semantics). */
function auditLevel(
  request: { user?: string; verb: string; group?: string; resource?: string; path?: string },
  rules: readonly AuditRule[],
): string {
  const matches = (rule: AuditRule) => {
    if (rule.users && !rule.users.includes(request.user ?? "")) return false;
    if (rule.verbs && !rule.verbs.includes(request.verb)) return false;
    if (rule.nonResourceURLs) {
      return (
        request.path !== undefined &&
        rule.nonResourceURLs.some((p) =>
          p.endsWith("*") ? request.path?.startsWith(p.slice(0, -1)) : p === request.path,
        )
      );
    }
    if (rule.resources) {
      return (
        request.resource !== undefined &&
        rule.resources.some(
          (r) => r.group === (request.group ?? "") && r.resources.includes(request.resource as string),
        )
      );
    }
    return true;
  };
  return rules.find(matches)?.level ?? "None";
}

describe("the API server's audit policy", () => {
  const rules = auditPolicy().rules as AuditRule[];

  it("never logs a Secret's, ConfigMap's or token's content, whoever writes it", () => {
    for (const verb of ["create", "update", "patch", "get", "list", "delete"]) {
      expect(auditLevel({ verb, resource: "secrets" }, rules)).toBe("Metadata");
      expect(auditLevel({ verb, resource: "configmaps" }, rules)).toBe("Metadata");
      expect(auditLevel({ verb, resource: "serviceaccounts/token" }, rules)).toBe("Metadata");
      expect(auditLevel({ verb, group: "authentication.k8s.io", resource: "tokenreviews" }, rules)).toBe("Metadata");
    }
  });

  it("logs other writes with their request, reads as metadata, and leaves out probes, events and heartbeats", () => {
    expect(auditLevel({ verb: "create", resource: "pods" }, rules)).toBe("Request");
    expect(
      auditLevel({ verb: "delete", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" }, rules),
    ).toBe("Request");
    expect(auditLevel({ verb: "get", resource: "pods" }, rules)).toBe("Metadata");
    expect(auditLevel({ verb: "get", path: "/readyz" }, rules)).toBe("None");
    expect(auditLevel({ verb: "create", resource: "events" }, rules)).toBe("None");
    expect(auditLevel({ verb: "update", group: "coordination.k8s.io", resource: "leases" }, rules)).toBe("None");
    expect(auditLevel({ verb: "watch", user: "system:kube-proxy", resource: "services" }, rules)).toBe("None");
    expect(auditLevel({ verb: "watch", user: "alice", resource: "services" }, rules)).toBe("Metadata");
  });
});

describe("the API server's flags and files", () => {
  const args = apiServerArgs();

  it("audit log, retention and profiling as CIS 1.2.15-1.2.19 ask", () => {
    expect(args).toMatchObject({
      profiling: "false",
      "audit-log-path": "/var/log/kubernetes/audit/audit.log",
      "audit-log-maxage": "30",
      "audit-log-maxbackup": "10",
      "audit-log-maxsize": "100",
      "audit-policy-file": apiServerFiles.auditPolicy,
    });
  });

  it("Secrets encrypted, Pod Security defaults, kubelet serving certificates verified against the cluster CA", () => {
    expect(args["encryption-provider-config"]).toBe(apiServerFiles.encryption);
    expect(args["admission-control-config-file"]).toBe(apiServerFiles.admission);
    expect(args["kubelet-certificate-authority"]).toBe("/etc/kubernetes/pki/ca.crt");
  });

  it("every file a flag names is inside a directory mounted into the static pod (the audit log's writable)", () => {
    const fileFlags = Object.values(args).filter((v) => v.startsWith("/") && !v.startsWith("/etc/kubernetes/pki/"));
    expect(fileFlags.length).toBe(4);
    for (const file of fileFlags) {
      const volume = apiServerVolumes.find((v) => file.startsWith(`${v.mountPath}/`));
      expect([file, volume?.hostPath]).toEqual([file, volume?.mountPath]);
      expect(volume?.readOnly).toBe(!file.endsWith(".log"));
    }
  });

  it("secretbox first (the write key), identity after it (Secrets stored before encryption stay readable)", () => {
    const config = encryptionConfiguration({ name: "key-1", secretBase64: "x" });
    expect(config.resources).toEqual([
      {
        resources: ["secrets"],
        providers: [{ secretbox: { keys: [{ name: "key-1", secret: "x" }] } }, { identity: {} }],
      },
    ]);
  });

  it("Pod Security: baseline enforced wherever a namespace does not say otherwise; only the system namespaces exempt", () => {
    const podSecurity = admissionConfiguration().plugins[0];
    expect(podSecurity.name).toBe("PodSecurity");
    expect(podSecurity.configuration.defaults).toMatchObject({
      enforce: "baseline",
      audit: "restricted",
      warn: "restricted",
    });
    expect(podSecurity.configuration.exemptions).toEqual({
      usernames: [],
      runtimeClasses: [],
      namespaces: ["kube-system", "tigera-operator", "calico-system"],
    });
  });
});

interface CloudConfig {
  write_files: { path: string; content: string; permissions: string }[];
}
const filesOf = (userData: string) => new Map((parseYaml(userData) as CloudConfig).write_files.map((f) => [f.path, f]));
const documents = (yaml: string) => yaml.split("---\n").map((d) => parseYaml(d) as Record<string, unknown>);

describe.each(["dev", "staging", "prod"])("the %s stack's control plane", (stack) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack, {
      // A pool with floating IPs: the approver must accept its addresses.
      workerPools: [
        { name: "general", count: 2, flavor: "m1.large" },
        { name: "edge", count: 1, flavor: "m1.large", floatingIps: true },
      ],
    });
  });
  const nodes = () => run.ofType(INSTANCE).map((i) => ({ name: i.name, files: filesOf(String(i.inputs.userData)) }));

  it("control-plane nodes write the audit policy, encryption and admission configuration (0600); workers none", () => {
    const keys = new Set<string>();
    for (const node of nodes()) {
      const present = Object.values(apiServerFiles).map((file) => node.files.get(file));
      if (node.name.includes("control-plane")) {
        for (const file of present) expect(file?.permissions).toBe("0600");
        const encryption = parseYaml(node.files.get(apiServerFiles.encryption)?.content ?? "") as ReturnType<
          typeof encryptionConfiguration
        >;
        const secret = (encryption.resources[0].providers[0] as { secretbox: { keys: { secret: string }[] } }).secretbox
          .keys[0].secret;
        expect(Buffer.from(secret, "base64")).toHaveLength(32);
        keys.add(secret);
        expect(parseYaml(node.files.get(apiServerFiles.auditPolicy)?.content ?? "")).toEqual(auditPolicy());
        expect(parseYaml(node.files.get(apiServerFiles.admission)?.content ?? "")).toEqual(admissionConfiguration());
      } else {
        expect(present.filter(Boolean)).toEqual([]);
        expect([...node.files.values()].some((f) => f.content.includes("secretbox"))).toBe(false);
      }
    }
    // One key for the whole control plane: every API server must read what another wrote.
    expect(keys.size).toBe(1);
  });

  it("kubeadm runs the API server with those flags and mounts, and every kubelet asks for a CA-signed serving certificate", () => {
    const init = nodes().find((n) => n.name.endsWith("control-plane-0"));
    const docs = documents(init?.files.get("/etc/kubernetes/bootstrap/init.yaml")?.content ?? "");
    const cluster = docs.find((d) => d.kind === "ClusterConfiguration") as {
      apiServer: { extraArgs: { name: string; value: string }[]; extraVolumes: unknown[] };
    };
    expect(Object.fromEntries(cluster.apiServer.extraArgs.map((a) => [a.name, a.value]))).toEqual(apiServerArgs());
    expect(cluster.apiServer.extraVolumes).toEqual(apiServerVolumes.map((v) => ({ ...v })));
    expect(docs.find((d) => d.kind === "KubeletConfiguration")).toMatchObject({
      serverTLSBootstrap: true,
      rotateCertificates: true,
    });
  });

  it("installs kubelet-csr-approver after the cloud controller, for this cluster's node names and addresses only", () => {
    const approver = run.one(RELEASE, "kubelet-csr-approver");
    const occm = run.one(RELEASE, "openstack-cloud-controller-manager");
    expect(approver.inputs).toMatchObject({ namespace: "kube-system", chart: "kubelet-csr-approver" });
    expect(approver.dependsOn).toContain(occm.key);
    const values = approver.inputs.values as ReturnType<typeof kubeletCsrApproverValues>;
    const pattern = new RegExp(values.providerRegex);
    for (const node of nodes()) expect(node.name).toMatch(pattern);
    for (const foreign of [`other-${stack}-general-0`, "kubernetes.default.svc", `mesh-${stack}.evil.example.com`]) {
      expect(foreign).not.toMatch(pattern);
    }
    const floatingIps = run
      .ofType("openstack:networking/floatingIp:FloatingIp")
      .filter((f) => f.name.includes("-edge-"))
      .map((f) => `${run.computedOutputs[f.key]?.address}/32`);
    expect(floatingIps).toHaveLength(1);
    expect(values.providerIpPrefixes).toEqual([run.config.nodeCidr, ...floatingIps]);
    expect(values.bypassDnsResolution).toBe(true);
  });

  it("protects the CAs, the service-account key, the admin key and the encryption key outside dev; never what rotates", () => {
    const protect = stack !== "dev";
    const kept = [
      ...run.ofType("tls:index/privateKey:PrivateKey"),
      ...run.ofType("tls:index/selfSignedCert:SelfSignedCert"),
      ...run.ofType("random:index/randomBytes:RandomBytes"),
    ];
    expect(kept.map((r) => r.name).sort()).toEqual(
      ["admin", "ca", "ca", "etcd-ca", "etcd-ca", "front-proxy-ca", "front-proxy-ca", "sa", "secrets-encryption"].map(
        (suffix) => `mesh-${stack}-pki-${suffix}`,
      ),
    );
    for (const resource of kept)
      expect([resource.name, resource.options.protect ?? false]).toEqual([resource.name, protect]);
    const rotating = [
      run.one("tls:index/locallySignedCert:LocallySignedCert", `mesh-${stack}-pki-admin`),
      ...run.ofType("random:index/randomString:RandomString"),
      ...run.ofType("random:index/randomPassword:RandomPassword").filter((r) => r.name.includes("-pki-")),
    ];
    for (const resource of rotating)
      expect([resource.name, resource.options.protect ?? false]).toEqual([resource.name, false]);
  });
});

describe.each(["dev", "prod"])("Pod Security on the %s stack's namespaces", (stack) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack, { meshNamespaces: { shop: "default" } });
  });
  const labels = (name: string) =>
    (
      (run.ofType("kubernetes:core/v1:Namespace").find((n) => (n.inputs.metadata as { name: string }).name === name)
        ?.inputs.metadata ?? {}) as { labels?: Record<string, string> }
    ).labels ?? {};

  it("every namespace the program creates says its level: enforced, with audit and warn at restricted", () => {
    const namespaces = run.ofType("kubernetes:core/v1:Namespace");
    expect(namespaces.length).toBeGreaterThanOrEqual(3);
    for (const ns of namespaces) {
      const meta = ns.inputs.metadata as { name: string; labels?: Record<string, string> };
      expect([meta.name, meta.labels?.["pod-security.kubernetes.io/enforce"]]).toEqual([
        meta.name,
        expect.stringMatching(/^(baseline|restricted|privileged)$/),
      ]);
      expect(meta.labels).toMatchObject({
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
    }
  });

  it("gateways enforce baseline; istio-init makes sidecar applications privileged, or the istio-cni node agent makes istio-system privileged instead (on in prod)", () => {
    // dev runs without istio-cni: sidecars carry istio-init (NET_ADMIN). prod runs the node agent.
    const cni = stack !== "dev";
    expect(labels("istio-system")["pod-security.kubernetes.io/enforce"]).toBe(cni ? "privileged" : "baseline");
    expect(labels(run.config.ingressGatewayNamespace)["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(labels("shop")).toMatchObject({
      "istio.io/rev": "default",
      "pod-security.kubernetes.io/enforce": cni ? "baseline" : "privileged",
    });
  });

  it("installs no host-network node agent into baseline istio-system (Prometheus' node exporter off)", () => {
    const prometheus = run.one(RELEASE, `mesh-${stack}-prometheus`);
    const values = prometheus.inputs.values as Record<string, { enabled: boolean }>;
    expect(values["prometheus-node-exporter"]).toEqual({ enabled: false });
  });
});

describe.each(["dev", "prod"])("the %s stack keeps pods away from the metadata service", (stack) => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateStack(stack);
  });
  const custom = (kind: string) =>
    run.ofType(`kubernetes:crd.projectcalico.org/v1:${kind}`).map((r) => ({ ...r, props: r.inputs }));

  it("a Calico tier before every other, passing what its policy does not deny", () => {
    const [tier] = custom("Tier");
    expect(tier.props).toMatchObject({ kind: "Tier", spec: { defaultAction: "Pass" } });
    // Before kube-admin (1000) and default (1,000,000): no namespace's policy can re-allow the address.
    expect((tier.props.spec as { order: number }).order).toBeLessThan(1000);
  });

  it("one policy in it: egress of every pod (workload endpoints, not host endpoints) to 169.254.169.254 denied, nothing else decided", () => {
    const policies = custom("GlobalNetworkPolicy");
    expect(policies).toHaveLength(1);
    const spec = policies[0].props.spec as Record<string, unknown>;
    const [tier] = custom("Tier");
    expect(spec).toMatchObject({
      tier: (tier.props.metadata as { name: string }).name,
      types: ["Egress"],
      selector: "has(projectcalico.org/namespace)",
      egress: [{ action: "Deny", destination: { nets: ["169.254.169.254/32"] } }],
    });
    expect(spec.ingress).toBeUndefined();
    expect(
      metadataGuarded(
        custom("Tier")
          .concat(policies)
          .map((o) => ({ kind: String(o.props.kind), props: o.props })),
      ),
    ).toBe(true);
  });

  it("the guard exists before Calico runs: it waits only for Calico's CRDs, the policy for its tier", () => {
    const crds = run.one("kubernetes:helm.sh/v4:Chart", "calico-crds");
    const [tier] = custom("Tier");
    const [policy] = custom("GlobalNetworkPolicy");
    expect(tier.dependsOn).toEqual([crds.key]);
    expect(policy.dependsOn).toEqual(expect.arrayContaining([crds.key, tier.key]));
    expect(run.one(RELEASE, "calico").dependsOn).not.toContain(policy.key);
  });

  it("nodes boot from a config drive, and turning it on never rebuilds a running node", () => {
    for (const instance of run.ofType(INSTANCE)) {
      expect(instance.inputs.configDrive).toBe(true);
      expect(instance.options.ignoreChanges).toContain("configDrive");
    }
  });
});

it("a cloud without config drives: configDrive false boots from the metadata service (dev)", async () => {
  const run = await evaluateStack("dev", { configDrive: false });
  for (const instance of run.ofType(INSTANCE)) expect(instance.inputs.configDrive).toBe(false);
});

describe("control-plane certificates renew themselves (no SSH)", () => {
  it("control-plane nodes get the renewal script and a daily timer at a random hour, enabled at boot; workers none", async () => {
    const run = await evaluateStack("prod");
    for (const instance of run.ofType(INSTANCE)) {
      const userData = String(instance.inputs.userData);
      const document = parseYaml(userData) as CloudConfig & { runcmd: string[][] };
      const files = filesOf(userData);
      const controlPlane = instance.name.includes("control-plane");
      expect([instance.name, files.has("/usr/local/sbin/kubeadm-certs-renew.sh")]).toEqual([
        instance.name,
        controlPlane,
      ]);
      if (!controlPlane) {
        expect(document.runcmd.flat()).not.toContain("kubeadm-certs-renew.timer");
        continue;
      }
      expect(files.get("/usr/local/sbin/kubeadm-certs-renew.sh")?.permissions).toBe("0755");
      const service = files.get("/etc/systemd/system/kubeadm-certs-renew.service")?.content ?? "";
      const timer = files.get("/etc/systemd/system/kubeadm-certs-renew.timer")?.content ?? "";
      expect(service).toMatch(/^ExecStart=\/usr\/local\/sbin\/kubeadm-certs-renew\.sh$/m);
      expect(timer).toMatch(/^OnCalendar=daily$/m);
      expect(timer).toMatch(/^RandomizedDelaySec=12h$/m);
      expect(timer).toMatch(/^WantedBy=timers\.target$/m);
      expect(document.runcmd[0]).toEqual(["systemctl", "enable", "--now", "kubeadm-certs-renew.timer"]);
    }
  });
});
