// Checks the token set a generated schema serves against the tokens @pulumi/openstack uses.
//
//   node check-schema-tokens.mjs SCHEMA_JSON SDK_DIR
//
// Prints the overall coverage (resources and functions of the SDK the schema serves, and the SDK
// tokens it does not), and fails if any token this project's programs use is not served.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The @pulumi/openstack resources and functions this project uses (components/, e2e/). */
const required = [
  "openstack:networking/network:Network",
  "openstack:networking/subnet:Subnet",
  "openstack:networking/router:Router",
  "openstack:networking/routerInterface:RouterInterface",
  "openstack:networking/secGroup:SecGroup",
  "openstack:networking/secGroupRule:SecGroupRule",
  "openstack:networking/port:Port",
  "openstack:networking/floatingIp:FloatingIp",
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
  "openstack:compute/instance:Instance",
  "openstack:compute/keypair:Keypair",
  "openstack:compute/serverGroup:ServerGroup",
  "openstack:loadbalancer/loadBalancer:LoadBalancer",
  "openstack:loadbalancer/listener:Listener",
  "openstack:loadbalancer/pool:Pool",
  "openstack:loadbalancer/member:Member",
  "openstack:loadbalancer/monitor:Monitor",
  "openstack:identity/applicationCredential:ApplicationCredential",
  "openstack:blockstorage/volume:Volume",
  "openstack:networking/getNetwork:getNetwork",
  "openstack:images/getImage:getImage",
  "openstack:compute/getFlavor:getFlavor",
  "openstack:networking/getSubnet:getSubnet",
];

const [schemaPath, sdkDir] = process.argv.slice(2);
if (!schemaPath || !sdkDir) {
  console.error("usage: node check-schema-tokens.mjs SCHEMA_JSON SDK_DIR");
  process.exit(2);
}

const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const served = new Set([...Object.keys(schema.resources ?? {}), ...Object.keys(schema.functions ?? {})]);

function* jsFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules") continue;
    if (statSync(path).isDirectory()) yield* jsFiles(path);
    else if (entry.endsWith(".js")) yield path;
  }
}

const sdkResources = new Set();
const sdkFunctions = new Set();
for (const file of jsFiles(sdkDir)) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/__pulumiType = '([^']+:[^']+)'/g)) sdkResources.add(m[1]);
  for (const m of text.matchAll(/invoke(?:Output|Single|SingleOutput)?\("(openstack:[^"]+)"/g)) sdkFunctions.add(m[1]);
}
if (sdkResources.size === 0 || sdkFunctions.size === 0) {
  console.error(`no tokens found in ${sdkDir}: is it @pulumi/openstack?`);
  process.exit(2);
}

const report = (label, sdkTokens) => {
  const missing = [...sdkTokens].filter((t) => !served.has(t)).sort();
  console.log(`${label}: ${sdkTokens.size - missing.length} of ${sdkTokens.size} SDK tokens served`);
  for (const t of missing) console.log(`  not served: ${t}`);
  return sdkTokens.size - missing.length;
};
const resources = report("resources", sdkResources);
const functions = report("functions", sdkFunctions);

const sdkAll = new Set([...sdkResources, ...sdkFunctions]);
const missingRequired = required.filter((t) => !served.has(t));
const unknownRequired = required.filter((t) => !sdkAll.has(t));
if (unknownRequired.length > 0) {
  console.error(`required tokens the SDK does not have (typo in the list?): ${unknownRequired.join(", ")}`);
  process.exit(1);
}
if (missingRequired.length > 0) {
  console.error(`tokens this project uses that the provider does not serve: ${missingRequired.join(", ")}`);
  process.exit(1);
}
console.log(
  `coverage: ${resources}/${sdkResources.size} resources, ${functions}/${sdkFunctions.size} functions; ` +
    `all ${required.length} tokens this project uses are served`,
);
