// What the policy pack must refuse (config bad=true) or accept (bad=false), built from the resource
// types the platform creates. Previewed only: no cloud is contacted (the provider authenticates lazily).
const pulumi = require("@pulumi/pulumi");
const openstack = require("@pulumi/openstack");

const bad = new pulumi.Config().requireBoolean("bad");

const nodes = new openstack.networking.SecGroup("nodes", { name: "nodes", description: "policy e2e" });
const rule = (name, port, remoteIpPrefix) =>
  new openstack.networking.SecGroupRule(name, {
    securityGroupId: nodes.id,
    direction: "ingress",
    ethertype: "IPv4",
    protocol: "tcp",
    portRangeMin: port,
    portRangeMax: port,
    remoteIpPrefix,
  });
rule("ssh", 22, bad ? "0.0.0.0/0" : "203.0.113.0/24");
rule("kubernetes-api", 6443, bad ? "0.0.0.0/0" : "203.0.113.0/24");
rule("https", 443, "0.0.0.0/0"); // allowed either way

// Control-plane nodes and their server group: the instances name the group by an id that is unknown
// in a preview, so the pack has to join them through the engine's property dependencies.
const controlPlane = new openstack.compute.ServerGroup("control-plane", {
  name: "control-plane",
  policies: [bad ? "affinity" : "anti-affinity"],
});
for (const index of [0, 1, 2]) {
  new openstack.compute.Instance(`control-plane-${index}`, {
    name: `control-plane-${index}`,
    flavorName: "m1.large",
    imageName: "ubuntu-24.04",
    networks: [{ name: "nodes" }],
    schedulerHints: [{ group: controlPlane.id }],
    metadata: { role: "control-plane" },
    configDrive: !bad,
  });
}

new openstack.identity.ApplicationCredential("cloud-provider", {
  name: "cloud-provider",
  roles: ["member"],
  unrestricted: bad,
});
