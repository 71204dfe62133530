/**
 * What the program can tell, before any resource, about the credentials the OpenStack provider will
 * deploy with: read from the same places and in the same order as the provider (terraform-provider-
 * openstack through gophercloud/utils): with a cloud name (`openstackCloud`, else `OS_CLOUD`) the
 * clouds.yaml entry is the whole authentication, merged with its clouds-public.yaml profile and
 * secure.yaml, `OS_AUTH_URL` only filling an empty auth_url (clientconfig `GetCloudFromYAML`,
 * `v3auth`); without one, the `OS_*` variables. The provider's own resolved configuration is not
 * readable by the program (a provider's inputs are outputs, unknown during a preview).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface DeployerCredentials {
  /** Where they come from, for messages: `clouds.yaml entry "x" (/path)` or `the OS_* variables`. */
  readonly source: string;
  /** Keystone's URL as the deployer's credentials name it. */
  readonly authUrl?: string;
  readonly region?: string;
  /** The deployer authenticates with an application credential (restricted unless created --unrestricted). */
  readonly applicationCredential: boolean;
  /** A cloud name was given but no clouds.yaml entry of that name exists: the provider will fail too. */
  readonly missingCloud?: { readonly name: string; readonly searched: readonly string[] };
}

type Env = Readonly<Record<string, string | undefined>>;

interface CloudEntry {
  readonly auth?: Readonly<Record<string, unknown>>;
  readonly auth_type?: string;
  readonly region_name?: string;
  readonly profile?: string;
  readonly cloud?: string;
}

/** The files gophercloud reads, first found wins: $OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, /etc/openstack/. */
export function cloudsFileCandidates(env: Env, name: string, cwd: string, home: string): string[] {
  const explicit = name === "clouds.yaml" ? env.OS_CLIENT_CONFIG_FILE : undefined;
  return [
    ...(explicit ? [explicit] : []),
    path.join(cwd, name),
    path.join(home, ".config", "openstack", name),
    path.join("/etc/openstack", name),
  ];
}

export interface DeployerSources {
  readonly env: Env;
  /** The text of a file, or undefined when it does not exist. */
  readonly readFile: (file: string) => string | undefined;
  readonly cwd: string;
  readonly home: string;
}

function firstFile(sources: DeployerSources, name: string): { file: string; text: string } | undefined {
  for (const file of cloudsFileCandidates(sources.env, name, sources.cwd, sources.home)) {
    const text = sources.readFile(file);
    if (text !== undefined) return { file, text };
  }
  return undefined;
}

/** An entry of clouds.yaml or secure.yaml (`clouds:`), or of clouds-public.yaml (`public-clouds:`). */
function entryOf(
  text: string | undefined,
  cloud: string,
  section: "clouds" | "public-clouds" = "clouds",
): CloudEntry | undefined {
  if (text === undefined) return undefined;
  const document = (parseYaml(text) ?? {}) as Partial<Record<typeof section, Record<string, CloudEntry>>>;
  return document[section]?.[cloud];
}

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

function isApplicationCredential(authType: string | undefined, auth: Readonly<Record<string, unknown>>): boolean {
  return (
    /applicationcredential|application_credential/i.test(authType ?? "") ||
    str(auth.application_credential_id) !== undefined ||
    str(auth.application_credential_name) !== undefined
  );
}

/** The deployer's credentials as the provider will find them; `cloud` is the stack's openstackCloud. */
export function deployerCredentials(cloud: string | undefined, sources: DeployerSources): DeployerCredentials {
  const { env } = sources;
  const cloudName = cloud ?? str(env.OS_CLOUD);
  if (cloudName === undefined) {
    return {
      source: "the OS_* variables",
      ...(str(env.OS_AUTH_URL) ? { authUrl: env.OS_AUTH_URL } : {}),
      ...(str(env.OS_REGION_NAME) ? { region: env.OS_REGION_NAME } : {}),
      applicationCredential:
        isApplicationCredential(env.OS_AUTH_TYPE, {}) ||
        str(env.OS_APPLICATION_CREDENTIAL_ID) !== undefined ||
        str(env.OS_APPLICATION_CREDENTIAL_NAME) !== undefined,
    };
  }
  const clouds = firstFile(sources, "clouds.yaml");
  const entry = entryOf(clouds?.text, cloudName);
  if (!clouds || !entry) {
    return {
      source: `clouds.yaml entry "${cloudName}"`,
      applicationCredential: false,
      missingCloud: {
        name: cloudName,
        searched: clouds ? [clouds.file] : cloudsFileCandidates(env, "clouds.yaml", sources.cwd, sources.home),
      },
    };
  }
  const profileName = entry.profile ?? entry.cloud;
  const profile = profileName
    ? entryOf(firstFile(sources, "clouds-public.yaml")?.text, profileName, "public-clouds")
    : undefined;
  const secure = entryOf(firstFile(sources, "secure.yaml")?.text, cloudName);
  const auth = { ...(profile?.auth ?? {}), ...(entry.auth ?? {}), ...(secure?.auth ?? {}) };
  const authUrl = str(auth.auth_url) ?? str(env.OS_AUTH_URL);
  const region = entry.region_name ?? profile?.region_name ?? str(env.OS_REGION_NAME);
  return {
    source: `clouds.yaml entry "${cloudName}" (${clouds.file})`,
    ...(authUrl ? { authUrl } : {}),
    ...(region ? { region } : {}),
    applicationCredential: isApplicationCredential(entry.auth_type ?? profile?.auth_type, auth),
  };
}

/** The real environment and files, as the provider process will see them. */
export function readDeployerCredentials(cloud: string | undefined): DeployerCredentials {
  return deployerCredentials(cloud, {
    env: process.env,
    readFile: (file) => {
      try {
        return readFileSync(file, "utf8");
      } catch {
        return undefined;
      }
    },
    cwd: process.cwd(),
    home: homedir(),
  });
}
