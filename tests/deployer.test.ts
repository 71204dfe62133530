import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type DeployerSources, deployerCredentials, readDeployerCredentials } from "../stacks/deployer";

/** Sources with the given files (absolute path → text) and variables, nothing else. */
function sources(files: Record<string, string>, env: Record<string, string> = {}): DeployerSources {
  return { env, readFile: (file) => files[file], cwd: "/project", home: "/home/me" };
}

const CLOUDS = `
clouds:
  prod-appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example.com:5000/v3
      application_credential_id: 0123456789abcdef0123456789abcdef
    region_name: RegionTwo
  prod-password:
    auth:
      username: deployer
      project_name: platform
  vendor:
    profile: somecloud
`;

describe("the deployer's credentials, found where the OpenStack provider finds them", () => {
  it("without a cloud name: the OS_* variables, an application credential by OS_AUTH_TYPE or its id", () => {
    expect(
      deployerCredentials(
        undefined,
        sources(
          {},
          {
            OS_AUTH_URL: "https://keystone.example.com/v3",
            OS_REGION_NAME: "R1",
            OS_AUTH_TYPE: "v3applicationcredential",
          },
        ),
      ),
    ).toEqual({
      source: "the OS_* variables",
      authUrl: "https://keystone.example.com/v3",
      region: "R1",
      applicationCredential: true,
    });
    expect(
      deployerCredentials(undefined, sources({}, { OS_APPLICATION_CREDENTIAL_ID: "x" })).applicationCredential,
    ).toBe(true);
    expect(deployerCredentials(undefined, sources({}, { OS_USERNAME: "me" }))).toEqual({
      source: "the OS_* variables",
      applicationCredential: false,
    });
  });

  it("with a cloud name (the stack's, else OS_CLOUD): the clouds.yaml entry, first file found", () => {
    const files = { "/home/me/.config/openstack/clouds.yaml": CLOUDS, "/etc/openstack/clouds.yaml": "clouds: {}" };
    expect(deployerCredentials("prod-appcred", sources(files))).toEqual({
      source: 'clouds.yaml entry "prod-appcred" (/home/me/.config/openstack/clouds.yaml)',
      authUrl: "https://keystone.example.com:5000/v3",
      region: "RegionTwo",
      applicationCredential: true,
    });
    // OS_CLOUD names it when the stack does not; OS_AUTH_URL only fills an empty auth_url (gophercloud's v3auth).
    const viaEnv = deployerCredentials(
      undefined,
      sources(files, { OS_CLOUD: "prod-password", OS_AUTH_URL: "https://fallback.example.com/v3" }),
    );
    expect(viaEnv).toMatchObject({ authUrl: "https://fallback.example.com/v3", applicationCredential: false });
    // OS_CLIENT_CONFIG_FILE comes first.
    const explicit = deployerCredentials(
      "prod-appcred",
      sources(
        { ...files, "/elsewhere/c.yaml": CLOUDS.replace("RegionTwo", "RegionThree") },
        {
          OS_CLIENT_CONFIG_FILE: "/elsewhere/c.yaml",
        },
      ),
    );
    expect(explicit).toMatchObject({
      region: "RegionThree",
      source: 'clouds.yaml entry "prod-appcred" (/elsewhere/c.yaml)',
    });
  });

  it("merges the entry's clouds-public.yaml profile and secure.yaml, as the provider does", () => {
    const files = {
      "/project/clouds.yaml": CLOUDS,
      "/project/clouds-public.yaml":
        "public-clouds:\n  somecloud:\n    auth:\n      auth_url: https://identity.somecloud.example/v3\n",
      "/project/secure.yaml": "clouds:\n  vendor:\n    auth:\n      application_credential_id: abc\n",
    };
    expect(deployerCredentials("vendor", sources(files))).toMatchObject({
      authUrl: "https://identity.somecloud.example/v3",
      applicationCredential: true,
    });
  });

  it("a cloud name without an entry: nothing known, and where it looked", () => {
    expect(deployerCredentials("nope", sources({ "/project/clouds.yaml": CLOUDS }))).toEqual({
      source: 'clouds.yaml entry "nope"',
      applicationCredential: false,
      missingCloud: { name: "nope", searched: ["/project/clouds.yaml"] },
    });
  });

  it("reads the real files: OS_CLIENT_CONFIG_FILE", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "deployer-"));
    const file = path.join(dir, "clouds.yaml");
    writeFileSync(file, CLOUDS);
    process.env.OS_CLIENT_CONFIG_FILE = file;
    try {
      expect(readDeployerCredentials("prod-appcred")).toMatchObject({
        authUrl: "https://keystone.example.com:5000/v3",
        applicationCredential: true,
      });
    } finally {
      delete process.env.OS_CLIENT_CONFIG_FILE;
    }
  });
});
