/** `npm run gen`: rewrites Pulumi.yaml and the configuration reference (docs/configuration.md) from stacks/keys. */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { projectFile, withConfigurationReference } from "./generated";

const root = path.resolve(__dirname, "..");
writeFileSync(path.join(root, "Pulumi.yaml"), projectFile());
const reference = path.join(root, "docs", "configuration.md");
writeFileSync(reference, withConfigurationReference(readFileSync(reference, "utf8")));
process.stdout.write("wrote Pulumi.yaml and the configuration reference in docs/configuration.md\n");
