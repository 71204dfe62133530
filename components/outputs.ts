/**
 * The stack-output contract: what other Pulumi projects read through a StackReference. One place,
 * typed and versioned; a test fails when an output disappears or changes shape.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../stacks/load";
import type { Platform } from "./platform";

/** Bump on a breaking change (an output removed, renamed or changing type). */
export const OUTPUT_CONTRACT_VERSION = 1;

export function stackOutputs(platform: Platform, config: StackConfig) {
  const network = platform.network;
  return {
    contractVersion: OUTPUT_CONTRACT_VERSION,
    environment: config.environment,
    clusterName: config.clusterName,
    network: pulumi.output({
      networkId: network.networkId,
      subnetId: network.subnetId,
      routerId: network.routerId.apply((id) => id ?? null),
      nodeCidr: network.nodeCidr,
      podCidr: config.podCidr,
      serviceCidr: config.serviceCidr,
      externalNetworkId: network.externalNetworkId,
      securityGroupIds: pulumi.output(network.securityGroupIds).apply((ids) => ({
        controlPlane: ids.controlPlane,
        worker: ids.worker,
        apiLoadBalancer: ids.apiLoadBalancer ?? null,
      })),
    }),
  };
}

export type StackOutputs = ReturnType<typeof stackOutputs>;
