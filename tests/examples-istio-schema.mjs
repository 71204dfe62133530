// Validates Istio objects against the schemas published in @kubernetes-models/istio (an ES module,
// hence its own process). stdin: a JSON array of objects; stdout: a JSON array of error lists, one per
// object (empty when valid).
import * as networking from "@kubernetes-models/istio/networking.istio.io/v1";
import * as security from "@kubernetes-models/istio/security.istio.io/v1";

const kinds = { "networking.istio.io/v1": networking, "security.istio.io/v1": security };
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = objects.map((object) => {
  const Model = kinds[object.apiVersion]?.[object.kind];
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    return details.length > 0 ? details : [String(error.message ?? error)];
  }
});
process.stdout.write(JSON.stringify(results));
