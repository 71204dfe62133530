// The Gateway API objects the mesh renders (pure, no engine): the classic gateway's Octavia settings
// carried over to the Gateway and its parameters, and every object checked against the OpenAPI schemas
// of the real v1.6.1 standard-channel CRDs (CEL rules are checked by the real kube-apiserver in the e2e
// ring); the committed CRD bundle is the upstream one.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import {
  hostExposure,
  type IngressGatewaySettings,
  ingressGateway,
  ingressGatewayParameters,
  waypoint,
  waypointClassDefaults,
} from "../components/mesh/gatewayApi";
import { GATEWAY_API_CRD_DIR, gatewayApiBundle, type ManifestObject } from "../components/mesh/gatewayApiCrds";
import { httpbinRoute, namespaceWaypoint } from "../examples/consumer/src/gateway";
import { gatewayApi } from "../lib/versions";
import { ROOT } from "./harness";

const SHARED = path.join(ROOT, "..", "shared", "charts", "gateway-api-crds");

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: object };
}
interface Crd extends ManifestObject {
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/** An ajv validator per apiVersion/kind from the bundle's CRDs (structural schemas; x-kubernetes-* ignored). */
function crdValidators(objects: readonly ManifestObject[]) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const crd of objects.filter((o): o is Crd => o.kind === "CustomResourceDefinition")) {
    for (const version of crd.spec.versions) {
      validators.set(
        `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`,
        ajv.compile(version.schema.openAPIV3Schema),
      );
    }
  }
  return (object: { apiVersion: string; kind: string }): string[] => {
    const validate = validators.get(`${object.apiVersion}/${object.kind}`);
    if (!validate) return [`no CRD for ${object.apiVersion} ${object.kind}`];
    return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

const settings: IngressGatewaySettings = {
  name: "ingress",
  namespace: "istio-ingress",
  tag: "default",
  replicas: 2,
  maxReplicas: 4,
  podDisruptionBudget: true,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
  externalTrafficPolicy: "Local",
  proxyProtocol: true,
  floatingIp: "198.51.100.7",
  sourceRanges: ["203.0.113.0/24"],
  annotations: { "loadbalancer.openstack.org/flavor-id": "abc" },
};
const overlay = (key: string, s: IngressGatewaySettings = settings) =>
  parse(ingressGatewayParameters(s).data[key] ?? "null") as Record<string, Record<string, unknown>> | null;

describe("the committed Gateway API CRDs", () => {
  it(`are upstream v${gatewayApi.version}, standard channel, byte for byte (../shared/charts/gateway-api-crds)`, () => {
    const committed = readdirSync(GATEWAY_API_CRD_DIR).sort();
    expect(committed).toEqual(
      readdirSync(SHARED)
        .filter((f) => f.endsWith(".yaml"))
        .sort(),
    );
    for (const file of committed) {
      expect(readFileSync(path.join(GATEWAY_API_CRD_DIR, file), "utf8")).toBe(
        readFileSync(path.join(SHARED, file), "utf8"),
      );
    }
    for (const object of gatewayApiBundle()) {
      expect(object.metadata.annotations).toMatchObject({
        "gateway.networking.k8s.io/bundle-version": `v${gatewayApi.version}`,
        "gateway.networking.k8s.io/channel": gatewayApi.channel,
      });
    }
  });
});

describe("the ingress Gateway carries the classic gateway's Octavia settings", () => {
  it("the floating IP is the Gateway's address (Istio makes it the Service's loadBalancerIP) and is kept", () => {
    expect(ingressGateway(settings).spec.addresses).toEqual([{ type: "IPAddress", value: "198.51.100.7" }]);
    expect(overlay("service")?.metadata).toEqual({
      annotations: {
        "loadbalancer.openstack.org/flavor-id": "abc",
        "loadbalancer.openstack.org/proxy-protocol": "true",
        "loadbalancer.openstack.org/keep-floatingip": "true",
      },
    });
  });

  it("PROXY protocol on both ends; source ranges and traffic policy on the Service", () => {
    expect(overlay("service")?.spec).toEqual({
      externalTrafficPolicy: "Local",
      loadBalancerSourceRanges: ["203.0.113.0/24"],
    });
    const deployment = overlay("deployment") as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    const template = deployment.spec.template;
    expect(JSON.parse(template.metadata.annotations["proxy.istio.io/config"])).toEqual({
      gatewayTopology: { proxyProtocol: {} },
    });
  });

  it("replicas: an autoscaler between the floor and ceiling, or a fixed count; a PDB when asked", () => {
    expect(overlay("horizontalPodAutoscaler")).toEqual({ spec: { minReplicas: 2, maxReplicas: 4 } });
    expect(overlay("deployment")?.spec).not.toHaveProperty("replicas");
    expect(overlay("podDisruptionBudget")).toEqual({ spec: { minAvailable: 1 } });
    const fixed = { ...settings, replicas: 1, maxReplicas: 1, podDisruptionBudget: false, proxyProtocol: false };
    expect(overlay("horizontalPodAutoscaler", fixed)).toBeNull();
    expect(overlay("podDisruptionBudget", fixed)).toBeNull();
    expect(overlay("deployment", fixed)?.spec).toMatchObject({ replicas: 1 });
  });

  it("no floating IP, no PROXY, no extra annotations: nothing OpenStack-specific is set", () => {
    const plain = { ...settings, floatingIp: undefined, proxyProtocol: false, annotations: {}, sourceRanges: [] };
    expect(ingressGateway(plain).spec).not.toHaveProperty("addresses");
    expect(overlay("service", plain)).toEqual({ spec: { externalTrafficPolicy: "Local" } });
  });

  it("routes are accepted only from labelled namespaces, never from all", () => {
    const gateway = ingressGateway(settings);
    expect(JSON.stringify(gateway)).not.toContain('"All"');
    expect(gateway.spec.listeners[0].allowedRoutes).toEqual({
      namespaces: { from: "Selector", selector: { matchLabels: { "shared-gateway-access": "true" } } },
    });
  });
});

describe("Gateway API objects against the real CRD schemas", () => {
  const errors = crdValidators(gatewayApiBundle());
  const kiali = hostExposure({
    name: "kiali",
    host: "kiali.example.com",
    tlsSecret: "kiali-tls",
    gateway: { name: "ingress", namespace: "istio-ingress" },
    namespace: "istio-system",
    paths: [
      { pathPrefix: "/grafana", name: "grafana", port: 80 },
      { pathPrefix: "/", name: "kiali", port: 20001 },
    ],
  });

  it("the ingress Gateway (with Kiali's listeners), waypoints and the HTTPRoutes (also the consumer's) are valid", () => {
    const parentRef = {
      group: "gateway.networking.k8s.io",
      kind: "Gateway",
      name: "ingress",
      namespace: "istio-ingress",
      sectionName: "http",
    };
    const consumer = [
      namespaceWaypoint("mesh-demo", "prod-stable"),
      httpbinRoute("mesh-demo", "httpbin.example.com", {
        name: "ingress",
        namespace: "istio-ingress",
        gatewayClassName: "istio",
        listeners: ["http"],
        parentRef,
        routeNamespaceLabel: {},
      }),
    ];
    const objects = [
      ingressGateway(settings, kiali.listeners),
      waypoint("shop", "prod-stable"),
      ...kiali.routes,
      ...consumer,
    ];
    expect(objects.map((o) => [o.kind, errors(o)])).toEqual(objects.map((o) => [o.kind, []]));
  });

  it("the validator is not a rubber stamp: a wrong protocol and a bad address are refused", () => {
    const gateway = ingressGateway(settings);
    const broken = {
      ...gateway,
      spec: {
        ...gateway.spec,
        addresses: [{ type: "IPAddress", value: "not-an-ip" }],
        listeners: [{ name: "http", port: 80, protocol: 7 }],
      },
    };
    expect(errors(broken).join("\n")).toMatch(/protocol/);
  });
});

it("waypoints: sized by the class defaults, a PodDisruptionBudget from two replicas on", () => {
  expect(waypointClassDefaults(1)).toEqual({ "istio-waypoint": { deployment: { spec: { replicas: 1 } } } });
  expect(waypointClassDefaults(3)).toEqual({
    "istio-waypoint": { deployment: { spec: { replicas: 3 } }, podDisruptionBudget: { spec: { minAvailable: 1 } } },
  });
});
