// The Istio objects the program applies, validated against Istio's published CRD schemas
// (@kubernetes-models/istio). That package is ESM-only, so the validation runs in one child Node
// process per call instead of inside jest's CommonJS module system.
import { execFileSync } from "node:child_process";
import { type IstioCustomResource, kialiExposure, meshTelemetry, peerAuthentications } from "../components/mesh/policy";
import { ROOT } from "./harness";

const VALIDATE = `
const input = await new Promise((done) => { let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => done(s)); });
const results = [];
for (const object of JSON.parse(input)) {
  const models = await import(\`@kubernetes-models/istio/\${object.apiVersion}/\${object.kind}\`);
  try { new models[object.kind](object).validate(); results.push(null); } catch (error) { results.push(String(error.message)); }
}
process.stdout.write(JSON.stringify(results));
`;

/** One entry per object: null when valid, else the schema's message. */
function schemaErrors(objects: readonly unknown[]): (string | null)[] {
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", VALIDATE], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    encoding: "utf8",
  });
  return JSON.parse(output) as (string | null)[];
}

const policy = {
  mtlsMode: "STRICT" as const,
  permissiveNamespaces: ["legacy"],
  accessLogging: true,
  traceSamplingPercent: 0.5,
  tracingProvider: "jaeger",
};

describe("Istio custom resources match Istio's published schemas", () => {
  it("PeerAuthentication (STRICT root, PERMISSIVE exception), Telemetry, Kiali's Gateway and VirtualService", () => {
    const objects: IstioCustomResource[] = [
      ...peerAuthentications(policy),
      meshTelemetry(policy),
      meshTelemetry({ ...policy, accessLogging: false }),
      ...kialiExposure({
        host: "kiali.example.com",
        tlsSecret: "kiali-tls",
        gatewayNamespace: "istio-ingress",
        gatewaySelector: { istio: "ingressgateway" },
        kialiService: "kiali.istio-system.svc.cluster.local",
        kialiPort: 20001,
      }),
    ];
    expect(objects.map((o) => o.kind)).toEqual([
      "PeerAuthentication",
      "PeerAuthentication",
      "Telemetry",
      "Telemetry",
      "Gateway",
      "VirtualService",
    ]);
    expect(schemaErrors(objects)).toEqual(objects.map(() => null));
    // The validator is not a rubber stamp: a wrong mode is refused.
    const [strict] = peerAuthentications(policy);
    const broken = { ...strict, spec: { mtls: { mode: "STRICTER" } } };
    expect(schemaErrors([broken])[0]).toMatch(/mode/);
  });
});
