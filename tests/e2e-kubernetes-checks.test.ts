/**
 * The pure checks of the e2e:kubernetes ring (e2e/kubernetes/compare.ts): "what was planned arrived".
 * The ring passes only if these find every difference; here each kind of difference is shown to be
 * found, and what the other side may add (chart defaults, server defaults) to be ignored.
 */
import { canonical, subsetMismatches } from "../e2e/kubernetes/compare";

describe("subsetMismatches (values a release received, objects on the API server)", () => {
  const exact = { lists: "exact" } as const;
  const elementwise = { lists: "elementwise" } as const;

  it("accepts what the chart or the server adds, in any key order", () => {
    const planned = { service: { type: "LoadBalancer", annotations: {} }, replicaCount: 2 };
    const received = {
      replicaCount: 2,
      service: { annotations: {}, ports: [{ port: 80 }], type: "LoadBalancer" },
      _internal_defaults_do_not_set: { service: { type: "LoadBalancer" } },
    };
    expect(subsetMismatches(planned, received, exact)).toEqual([]);
  });

  it("finds a changed, a missing and a retyped value, by path", () => {
    const planned = { server: { retention: "14d", persistentVolume: { size: "10Gi" } }, replicas: 2, port: "15020" };
    const received = { server: { retention: "7d", persistentVolume: {} }, replicas: "2", port: 15020 };
    expect(subsetMismatches(planned, received, exact)).toEqual([
      'server.retention: planned "14d", found "7d"',
      'server.persistentVolume.size: planned "10Gi", missing',
      'replicas: planned 2, found "2"',
      'port: planned "15020", found 15020',
    ]);
  });

  it("takes a planned null as a removed default, and finds it still there", () => {
    expect(subsetMismatches({ a: null }, { b: 1 }, exact)).toEqual([]);
    expect(subsetMismatches({ a: null }, { a: { x: 1 } }, exact)).toEqual(['a: planned null (removed), found {"x":1}']);
  });

  it("compares lists whole for Helm (lists replace defaults) and item by item for the API server", () => {
    const planned = { ranges: ["10.0.0.0/8"], webhooks: [{ name: "a", failurePolicy: "Fail" }] };
    const live = {
      ranges: ["10.0.0.0/8", "192.0.2.0/24"],
      webhooks: [{ name: "a", failurePolicy: "Fail", timeoutSeconds: 10 }],
    };
    expect(subsetMismatches(planned, live, exact)).toEqual([
      'ranges: planned ["10.0.0.0/8"], found ["10.0.0.0/8","192.0.2.0/24"]',
      'webhooks: planned [{"failurePolicy":"Fail","name":"a"}], found [{"failurePolicy":"Fail","name":"a","timeoutSeconds":10}]',
    ]);
    expect(subsetMismatches(planned, live, elementwise)).toEqual([
      'ranges: planned ["10.0.0.0/8"], found ["10.0.0.0/8","192.0.2.0/24"]',
    ]);
    expect(subsetMismatches(planned.webhooks, [{ name: "b" }], elementwise)).toEqual([
      '[0].name: planned "a", found "b"',
      '[0].failurePolicy: planned "Fail", missing',
    ]);
  });

  it("finds an object where a value was planned, and the other way round", () => {
    expect(subsetMismatches({ a: "x" }, { a: { b: 1 } }, exact)).toEqual(['a: planned "x", found {"b":1}']);
    expect(subsetMismatches({ a: { b: 1 } }, { a: "x" }, exact)).toEqual(['a: planned an object, found "x"']);
    expect(subsetMismatches({ a: 1 }, null, exact)).toEqual(["(top): planned an object, found null"]);
  });
});

describe("canonical", () => {
  it("orders keys at every depth, keeps list order, drops undefined", () => {
    expect(canonical({ b: [{ d: 1, c: 2 }], a: undefined, e: null })).toBe('{"b":[{"c":2,"d":1}],"e":null}');
  });
});
