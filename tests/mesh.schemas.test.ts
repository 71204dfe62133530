// The Istio objects the program applies, validated against Istio's published CRD schemas.
import { type IstioCustomResource, kialiExposure, meshTelemetry, peerAuthentications } from "../components/mesh/policy";
import { publicRoutes } from "../components/observability/values";
import { istioSchemaErrors } from "./istioSchema";

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
        routes: publicRoutes(),
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
    expect(istioSchemaErrors(objects)).toEqual(objects.map(() => []));
    // The validator is not a rubber stamp: a wrong mode is refused.
    const [strict] = peerAuthentications(policy);
    const broken = { ...strict, spec: { mtls: { mode: "STRICTER" } } };
    expect(istioSchemaErrors([broken])[0].join("\n")).toMatch(/mode/);
  });
});
