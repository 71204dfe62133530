// The real-engine rings' per-resource-type timings (e2e/lib, used by e2e/deploy): read from the engine's own event
// stream of `pulumi up --json`, one resource from its step's start to its outputs (or failure).
import { byType } from "../e2e/lib/bench";
import { engineEvents } from "../e2e/lib/pulumi";

const urn = (type: string, name: string) =>
  `urn:pulumi:e2e::istio-openstack::istio-openstack:index:Platform$${type}::${name}`;
const PORT = "openstack:networking/port:Port";
const LB = "openstack:loadbalancer/loadBalancer:LoadBalancer";

const stream = [
  { sequence: 1, timestamp: 100, resourcePreEvent: { metadata: { op: "create", urn: urn(PORT, "a") } } },
  { sequence: 2, timestamp: 100, resourcePreEvent: { metadata: { op: "create", urn: urn(LB, "lb") } } },
  { sequence: 3, timestamp: 101, resourcePreEvent: { metadata: { op: "same", urn: urn(PORT, "kept") } } },
  { sequence: 4, timestamp: 102, resOutputsEvent: { metadata: { op: "create", urn: urn(PORT, "a") } } },
  { sequence: 5, timestamp: 102, resOutputsEvent: { metadata: { op: "same", urn: urn(PORT, "kept") } } },
  { sequence: 6, timestamp: 103, resourcePreEvent: { metadata: { op: "create", urn: urn(PORT, "b") } } },
  { sequence: 7, timestamp: 103, resOutputsEvent: { metadata: { op: "create", urn: urn(PORT, "b") } } },
  { sequence: 8, timestamp: 110, resOpFailedEvent: { metadata: { op: "create", urn: urn(LB, "lb") }, status: 1 } },
  {
    sequence: 9,
    timestamp: 100,
    resourcePreEvent: { metadata: { op: "create", urn: urn("test:index:Group", "g"), new: { custom: false } } },
  },
  { sequence: 10, timestamp: 110, resOutputsEvent: { metadata: { op: "create", urn: urn("test:index:Group", "g") } } },
  { sequence: 11, timestamp: 111, summaryEvent: { resourceChanges: { create: 2, same: 1 } } },
]
  .map((event) => JSON.stringify(event, null, 2))
  .join("\n");

describe("the ring's per-resource timings", () => {
  it("time every custom resource's step that is not `same` from its start to its outputs or failure", () => {
    const { timings, steps, changeSummary } = engineEvents(stream);
    expect(timings.map((t) => [t.type, t.op, t.seconds])).toEqual([
      [PORT, "create", 2],
      [PORT, "create", 0],
      [LB, "create", 10],
    ]);
    expect(steps).toHaveLength(5);
    expect(changeSummary).toEqual({ create: 2, same: 1 });
  });

  it("add up per type and operation", () => {
    expect(byType(engineEvents(stream).timings)).toEqual([
      { type: LB, op: "create", count: 1, totalSeconds: 10, maxSeconds: 10 },
      { type: PORT, op: "create", count: 2, totalSeconds: 2, maxSeconds: 2 },
    ]);
  });
});
