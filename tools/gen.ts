/** `npm run gen`: rewrites Pulumi.yaml and the README's configuration table from stacks/keys. */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { projectFile, withReadmeTable } from "./generated";

const root = path.resolve(__dirname, "..");
writeFileSync(path.join(root, "Pulumi.yaml"), projectFile());
const readme = path.join(root, "README.md");
writeFileSync(readme, withReadmeTable(readFileSync(readme, "utf8")));
process.stdout.write("wrote Pulumi.yaml and the README configuration table\n");
