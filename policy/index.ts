// The istio-openstack policy pack: pulumi preview --policy-pack policy (docs/policy.md).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("istio-openstack", { policies });
