/**
 * What the cloud (and the tls, random and command providers) would compute for the resource types
 * the program creates: ids, addresses, keys and certificates, made up deterministically from
 * resource names (and a salt, when a run asks for fresh key material).
 */
import { createHash } from "node:crypto";
import { certRequest, deterministicEcKey, locallySignedCert, selfSignedCert } from "./pki";
import type { State } from "./secrets";

export function fakeId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("/")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A deterministic address in the documentation range 198.51.100.0/24 for floating IPs and VIPs. */
export function fakePublicAddress(name: string): string {
  const byte = createHash("sha256").update(name).digest()[0];
  return `198.51.100.${(byte % 250) + 2}`;
}

type StateFn = (name: string, inputs: State, salt: string) => State;

/**
 * A stand-in for Pulumi state: a resource with the same name and inputs keeps its outputs across
 * runs in a process (kept on globalThis, so it survives jest's isolated module registries).
 */
const globalMockState = globalThis as { __mockStateStore?: Map<string, State> };
globalMockState.__mockStateStore ??= new Map();
const stateStore: Map<string, State> = globalMockState.__mockStateStore;

function remembered(type: string, name: string, inputs: State, make: () => State): State {
  const storeKey = `${type}::${name}::${JSON.stringify(inputs)}`;
  const known = stateStore.get(storeKey);
  if (known) return known;
  const made = make();
  stateStore.set(storeKey, made);
  return made;
}

/** Lowercase alphanumerics from the name (and salt), like random.RandomString with upper and special off. */
export function fakeRandomString(name: string, length: number, salt = ""): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = createHash("sha256")
    .update(salt ? `mock-random:${salt}:${name}` : `mock-random:${name}`)
    .digest();
  return Array.from({ length }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join("");
}

/** Bytes from the name (and salt), like random.RandomBytes. */
function fakeRandomBytes(name: string, length: number, salt = ""): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) {
    blocks.push(createHash("sha256").update(`mock-bytes:${salt}:${name}:${i}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** An address in the node subnet for a port: 10.x addresses from the name, stable across runs. */
function fakeFixedIp(name: string): string {
  const bytes = createHash("sha256").update(`mock-port:${name}`).digest();
  return `10.20.${bytes[0] % 4}.${(bytes[1] % 200) + 20}`;
}

/** Addresses of the ports made so far, by id: Octavia reports a given VIP port's address as its VIP. */
const portAddresses = new Map<string, string>();

/** What OpenStack (and the tls and random providers) would compute for the resource types the program creates. */
export const computedState: Record<string, StateFn> = {
  "openstack:networking/port:Port": (name) => {
    const address = fakeFixedIp(name);
    portAddresses.set(fakeId("openstack:networking/port:Port", name), address);
    return { allFixedIps: [address] };
  },
  "openstack:networking/subnet:Subnet": (_name, inputs) => ({ cidr: inputs.cidr }),
  "openstack:compute/instance:Instance": (name) => ({ accessIpV4: fakeFixedIp(name) }),
  "openstack:compute/keypair:Keypair": (_name, inputs) => ({ name: inputs.name }),
  "openstack:loadbalancer/loadBalancer:LoadBalancer": (name, inputs) =>
    typeof inputs.vipPortId === "string"
      ? { vipAddress: portAddresses.get(inputs.vipPortId) ?? fakeFixedIp(`${name}-vip`), vipPortId: inputs.vipPortId }
      : { vipAddress: fakeFixedIp(`${name}-lb-vip`), vipPortId: fakeId("vip-port", name) },
  "openstack:identity/applicationCredential:ApplicationCredential": (name, _inputs, salt) => ({
    secret: `mock-application-credential-secret-${fakeRandomString(name, 12, salt)}`,
  }),
  "tls:index/privateKey:PrivateKey": (name, _inputs, salt) => deterministicEcKey(name, salt),
  "tls:index/selfSignedCert:SelfSignedCert": (name, inputs) =>
    remembered("cert", name, inputs, () => ({ certPem: selfSignedCert(inputs) })),
  "tls:index/certRequest:CertRequest": (name, inputs) =>
    remembered("csr", name, inputs, () => ({ certRequestPem: certRequest(inputs) })),
  "tls:index/locallySignedCert:LocallySignedCert": (name, inputs) =>
    remembered("signed", name, inputs, () => ({ certPem: locallySignedCert(inputs) })),
  "random:index/randomString:RandomString": (name, inputs, salt) => ({
    result: fakeRandomString(name, Number(inputs.length), salt),
  }),
  "random:index/randomPassword:RandomPassword": (name, inputs, salt) => ({
    result: fakeRandomString(name, Number(inputs.length), salt),
  }),
  "random:index/randomBytes:RandomBytes": (name, inputs, salt) => {
    const bytes = fakeRandomBytes(name, Number(inputs.length), salt);
    return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  },
  "command:local:Command": () => ({ stdout: "", stderr: "" }),
  "openstack:networking/network:Network": (_name, inputs) => ({ mtu: inputs.mtu ?? 1450 }),
  "openstack:networking/floatingIp:FloatingIp": (name) => ({ address: fakePublicAddress(name) }),
  // Neutron gives a router with a gateway an address on the external network.
  "openstack:networking/router:Router": (name) => ({
    externalFixedIps: [{ ipAddress: fakePublicAddress(`router:${name}`) }],
  }),
  // What Helm reports after an install, and a LoadBalancer Service once OCCM gave it an address.
  "kubernetes:helm.sh/v3:Release": (_name, inputs) => ({
    status: { name: inputs.name, namespace: inputs.namespace, version: inputs.version, status: "deployed" },
  }),
  "kubernetes:core/v1:Service": (name) => ({
    status: { loadBalancer: { ingress: [{ ip: fakePublicAddress(name) }] } },
  }),
};
