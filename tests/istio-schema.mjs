// Validates Istio objects against the schemas published in @kubernetes-models/istio (an ES module,
// hence a process of its own; tests call it through tests/istioSchema.ts). stdin: a JSON array of
// objects; stdout: a JSON array of error lists, one per object (empty when valid). An object whose
// apiVersion/kind has no published schema is an error, never a pass.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const object of objects) {
  let Model;
  try {
    Model = (await import(`@kubernetes-models/istio/${object.apiVersion}/${object.kind}`))[object.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    results.push([`no schema for ${object.apiVersion} ${object.kind}`]);
    continue;
  }
  try {
    new Model(object).validate();
    results.push([]);
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    results.push(details.length > 0 ? details : [String(error.message ?? error)]);
  }
}
process.stdout.write(JSON.stringify(results));
