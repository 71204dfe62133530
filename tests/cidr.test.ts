import fc from "fast-check";
import { allocationPool } from "../components/network/layout";
import { contains, formatCidr, formatIpv4, overlaps, parseCidr, parseIpv4 } from "../lib/cidr";

const cidrArb = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 8, max: 30 }))
  .map(([address, prefix]) => ({ network: address - (address % 2 ** (32 - prefix)), prefix }));

describe("CIDR arithmetic", () => {
  it("parses what it formats", () => {
    fc.assert(fc.property(cidrArb, (block) => expect(parseCidr(formatCidr(block))).toEqual(block)));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a) => expect(parseIpv4(formatIpv4(a))).toBe(a)));
  });

  it("refuses malformed blocks", () => {
    for (const text of [
      "10.0.0.0",
      "10.0.0.0/33",
      "10.0.0.1/24",
      "256.0.0.0/8",
      "10.0.0/24",
      "010.0.0.0/8",
      " 10.0.0.0/8",
    ]) {
      expect(parseCidr(text)).toBeUndefined();
    }
  });

  it("overlap is symmetric, and a block overlaps what it contains", () => {
    fc.assert(
      fc.property(cidrArb, cidrArb, (a, b) => {
        expect(overlaps(a, b)).toBe(overlaps(b, a));
        if (contains(a, b.network) && b.prefix >= a.prefix) expect(overlaps(a, b)).toBe(true);
      }),
    );
  });

  it("the default DHCP pool lies inside the subnet and leaves the gateway and reserved addresses out", () => {
    fc.assert(
      fc.property(
        cidrArb.filter((b) => b.prefix <= 27),
        (block) => {
          const pool = allocationPool(formatCidr(block));
          const start = parseIpv4(pool.start) as number;
          const end = parseIpv4(pool.end) as number;
          expect(contains(block, start) && contains(block, end)).toBe(true);
          expect(start).toBeGreaterThan(block.network + 10);
          expect(end).toBeLessThan(block.network + 2 ** (32 - block.prefix) - 1);
        },
      ),
    );
  });
});
