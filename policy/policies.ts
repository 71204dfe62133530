/** Every policy of the pack, in one list (index.ts serves it; the tests import the rules one by one). */
import type { Policies } from "@pulumi/policy";
import { controlPlaneAntiAffinity, haControlPlane, prodBootFromVolume, workerFloatingIps } from "./compute";
import { ambientNodeAgents, namespaceSingleDataplaneMode } from "./dataplane";
import { helmReleasePinned, kialiNotAnonymous } from "./helm";
import { meshWideStrictMtls, peerAuthenticationStrict } from "./mesh";
import { noWorldOpenAdminPorts } from "./network";
import { applicationCredentialRestricted, applicationCredentialSecret, commandCredentialsNotInline } from "./secrets";
import { keyMaterialProtected, namespacePodSecurity, nodesBootWithConfigDrive, podsDeniedMetadata } from "./security";

export const policies: Policies = [
  // Mandatory: the security defaults.
  noWorldOpenAdminPorts,
  helmReleasePinned,
  peerAuthenticationStrict,
  meshWideStrictMtls,
  namespaceSingleDataplaneMode,
  ambientNodeAgents,
  kialiNotAnonymous,
  applicationCredentialSecret,
  commandCredentialsNotInline,
  controlPlaneAntiAffinity,
  podsDeniedMetadata,
  nodesBootWithConfigDrive,
  keyMaterialProtected,
  namespacePodSecurity,
  // Advisory: choices a team may make differently.
  workerFloatingIps,
  haControlPlane,
  prodBootFromVolume,
  applicationCredentialRestricted,
];
