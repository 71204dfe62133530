/**
 * Rules that need to know how the deployer authenticates (stacks/deployer.ts): where the in-cluster
 * cloud provider logs in (keystoneUrl, derived from the deployer's credentials when unset), whether
 * the program may create its application credential, and no plain http outside dev.
 */
import type { PartialConfig } from "./checks";
import type { DeployerCredentials } from "./deployer";
import type { ConfigProblem } from "./errors";
import { defaultCloudProviderRoles } from "./keys/cluster";

const isHttp = (url: string) => /^http:\/\//i.test(url);

/** keystoneUrl as given, else the deployer's own; the caller validates a derived one with the key's schema. */
export function derivedKeystoneUrl(config: PartialConfig, deployer: DeployerCredentials): string | undefined {
  if (config.keystoneUrl !== undefined || config.clusterMode !== "kubeadm") return undefined;
  return deployer.authUrl;
}

function keystone(config: PartialConfig, deployer: DeployerCredentials): ConfigProblem[] {
  if (config.clusterMode !== "kubeadm" || config.keystoneUrl !== undefined) return [];
  const where = deployer.missingCloud
    ? `no clouds.yaml entry "${deployer.missingCloud.name}" was found (${deployer.missingCloud.searched.join(", ")})`
    : `the deployer's credentials (${deployer.source}) name no Keystone URL`;
  return [
    {
      path: "keystoneUrl",
      expected: `required in kubeadm mode (the in-cluster cloud provider logs in there), and ${where}: set it to your Keystone URL (OS_AUTH_URL), e.g. https://keystone.example.com:5000/v3`,
    },
  ];
}

function plainHttp(config: PartialConfig): ConfigProblem[] {
  if (config.environment === undefined || config.environment === "dev" || config.allowInsecureHttp) return [];
  const why = `plain http outside dev, refused in ${config.environment}: use https (or set allowInsecureHttp: true to accept the risk)`;
  const problems: ConfigProblem[] = [];
  if (config.clusterMode === "kubeadm" && config.keystoneUrl !== undefined && isHttp(config.keystoneUrl)) {
    problems.push({
      path: "keystoneUrl",
      given: config.keystoneUrl,
      expected: `sends the cluster's application credential over ${why}`,
    });
  }
  for (const [chart, repository] of Object.entries(config.chartRepositories ?? {})) {
    if (isHttp(repository)) {
      problems.push({
        path: `chartRepositories.${chart}`,
        given: repository,
        expected: `fetches what runs in the cluster over ${why}`,
      });
    }
  }
  return problems;
}

/** The in-cluster credential: given, or created by the program where Keystone lets the deployer create one. */
function inClusterCredential(config: PartialConfig, deployer: DeployerCredentials): ConfigProblem[] {
  const given = config.cloudProviderCredential !== undefined;
  if (config.clusterMode === "existing") {
    return given
      ? [
          {
            path: "cloudProviderCredential",
            expected: "only used when the program builds on OpenStack (clusterMode kubeadm or openstack-only)",
          },
        ]
      : [];
  }
  if (given) {
    const createdOnly = "only applies to the credential the program creates; you gave cloudProviderCredential";
    return [
      ...(config.cloudProviderRoles !== undefined
        ? [{ path: "cloudProviderRoles", given: config.cloudProviderRoles, expected: createdOnly }]
        : []),
      ...((config.cloudProviderCredentialGeneration ?? 0) > 0
        ? [
            {
              path: "cloudProviderCredentialGeneration",
              given: config.cloudProviderCredentialGeneration,
              expected: `${createdOnly} (rotate it by giving a new one)`,
            },
          ]
        : []),
    ];
  }
  if (!deployer.applicationCredential || config.deployerCredentialUnrestricted) return [];
  const name = `${config.clusterName ?? "<clusterName>"}-cloud-provider`;
  const roles = (config.cloudProviderRoles ?? defaultCloudProviderRoles(config.loadBalancerProvider))
    .map((role) => `--role ${role}`)
    .join(" ");
  return [
    {
      path: "cloudProviderCredential",
      expected: `required: you deploy with an application credential (${deployer.source}), and Keystone refuses a restricted one (its default) the creation of another. Create the cluster's own (openstack application credential create ${name} ${roles}) and set it: pulumi config set --secret cloudProviderCredential '{id: <id>, secret: <secret>}'. If your credential was created --unrestricted, set deployerCredentialUnrestricted: true instead`,
    },
  ];
}

export function cloudRules(config: PartialConfig, deployer: DeployerCredentials): ConfigProblem[] {
  return [...keystone(config, deployer), ...plainHttp(config), ...inClusterCredential(config, deployer)];
}
