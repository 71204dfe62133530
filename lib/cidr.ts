/** IPv4 address and CIDR arithmetic: pure functions, shared by config validation and layout code. */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer (host bits cleared). */
  readonly network: number;
  readonly prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => OCTET.test(part))) return undefined;
  return parts.reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses "a.b.c.d/n"; refuses host bits set, so a typo such as 10.0.0.1/24 is caught, not silently widened. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  if (address % size({ network: 0, prefix }) !== 0) return undefined;
  return { network: address, prefix };
}

/** Number of addresses in the block. */
export function size(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function lastAddress(cidr: Ipv4Cidr): number {
  return cidr.network + size(cidr) - 1;
}

export function contains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address <= lastAddress(cidr);
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** The n-th address of the block (0 is the network address). Throws outside the block: a layout bug, not user input. */
export function nthAddress(cidr: Ipv4Cidr, n: number): string {
  if (n < 0 || n >= size(cidr)) throw new RangeError(`address #${n} is outside ${formatCidr(cidr)}`);
  return formatIpv4(cidr.network + n);
}

export function isWorldOpen(text: string): boolean {
  const cidr = parseCidr(text);
  return cidr !== undefined && cidr.prefix === 0;
}

/** True when the blocks together cover every IPv4 address (0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 in two halves). */
export function coverEverything(cidrs: readonly Ipv4Cidr[]): boolean {
  const sorted = [...cidrs].sort((a, b) => a.network - b.network);
  let next = 0; // the first address not yet covered
  for (const cidr of sorted) {
    if (cidr.network > next) return false;
    next = Math.max(next, lastAddress(cidr) + 1);
  }
  return next > 0xffffffff;
}
