/**
 * The containerd configuration the nodes boot with, read back by the real containerd release they
 * install (tools/containerd.sh builds it; `npm run validators` runs that): `containerd config default`
 * as node-prepare.sh writes it, with the program's drop-in in its imported conf.d, merged by
 * `containerd config dump`. Proves the drop-in's plugin paths and version are ones containerd 2.x
 * applies, not just text that looks right.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containerdDropIn, type NodeSoftware } from "../components/cluster/bootstrap/nodeSoftware";
import { nodeSoftware } from "../components/platform/nodeSoftware";
import { nodePackages } from "../lib/versions";

const cache = process.env.E2E_CACHE_DIR ?? path.join(os.homedir(), ".cache", "istio-openstack-e2e");
const containerd = path.join(cache, `containerd-${nodePackages.containerd.version}`, "bin", "containerd");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** containerd's merged configuration with the drop-in (TOML text), or its error. */
function merged(dropIn: string | undefined): string {
  if (!existsSync(containerd))
    throw new Error(`${containerd} is missing: run npm run validators (tools/containerd.sh)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "containerd-config-"));
  dirs.push(dir);
  const confD = path.join(dir, "conf.d");
  mkdirSync(confD);
  const defaults = execFileSync(containerd, ["config", "default"], { encoding: "utf8" });
  // The node's main file imports /etc/containerd/conf.d; here the sandbox's conf.d stands in for it.
  writeFileSync(path.join(dir, "config.toml"), defaults.replace("/etc/containerd/conf.d/", `${confD}/`));
  if (dropIn !== undefined) writeFileSync(path.join(confD, "10-istio-openstack.toml"), dropIn);
  return execFileSync(containerd, ["--config", path.join(dir, "config.toml"), "config", "dump"], {
    encoding: "utf8",
  });
}

/** The value of `key = ...` inside a TOML table of the dump. */
function valueIn(toml: string, table: string, key: string): string | undefined {
  const start = toml.indexOf(`[${table}]\n`);
  if (start < 0) return undefined;
  const body = toml.slice(start + table.length + 3).split(/\n\s*\[/)[0];
  return new RegExp(`^\\s*${key} = (.*)$`, "m").exec(body)?.[1];
}

const RUNC = "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options";
const upstream: NodeSoftware = nodeSoftware({ kubernetesVersion: "1.36.3" });

describe(`containerd ${nodePackages.containerd.version} merging the nodes' drop-in`, () => {
  it("runs runc with systemd cgroups (the kubelet's cgroupDriver), keeping runc's other defaults", () => {
    const toml = merged(containerdDropIn(upstream));
    expect(valueIn(toml, RUNC, "SystemdCgroup")).toBe("true");
    expect(valueIn(toml, RUNC, "NoNewKeyring")).toBe("false");
  });

  it("without the drop-in it would not (the check can fail)", () => {
    expect(valueIn(merged(undefined), RUNC, "SystemdCgroup")).toBe("false");
  });

  it("refuses a drop-in containerd cannot parse (the check can fail)", () => {
    expect(() => merged("version = 3\n[plugins\n")).toThrow();
  });
});
