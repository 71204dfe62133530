/**
 * The post-deploy check: is the sleep pod really in the mesh? A local command asks the API server
 * for the pod's containers and fails the deployment unless an `istio-proxy` sidecar is there, either
 * as a container or as Istio's native sidecar (an init container `istio-proxy` with restartPolicy
 * Always, Kubernetes 1.29+). In ambient mode (MODE=ambient) there is no sidecar: the pod must carry
 * `ambient.istio.io/redirection: enabled`, which the istio-cni node agent sets once it has redirected
 * the pod's traffic to ztunnel (istio pkg/config/constants AmbientRedirectionEnabled), and no sidecar. The kubeconfig reaches the script as a secret environment variable and
 * is written to a private temp file that is removed on exit: never on the command line, never printed.
 */
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";

/** POSIX sh; reads NAMESPACE, KUBECONFIG_DATA and (optional) MODE and ATTEMPTS from the environment. */
export function sidecarCheckScript(): string {
  return `set -eu
umask 077
kubeconfig="$(mktemp)"
trap 'rm -f "$kubeconfig"' EXIT
printf '%s\\n' "$KUBECONFIG_DATA" >"$kubeconfig"
attempts="\${ATTEMPTS:-30}"
containers=""
init=""
redirection=""
i=0
while [ "$i" -lt "$attempts" ]; do
  i=$((i + 1))
  if [ "\${MODE:-sidecar}" = ambient ]; then
    redirection="$(kubectl --kubeconfig "$kubeconfig" -n "$NAMESPACE" get pod -l app=sleep -o jsonpath='{.items[0].metadata.annotations.ambient\\.istio\\.io/redirection}' 2>/dev/null || true)"
    containers="$(kubectl --kubeconfig "$kubeconfig" -n "$NAMESPACE" get pod -l app=sleep -o jsonpath='{.items[0].spec.containers[*].name}' 2>/dev/null || true)"
    case " $containers " in
    *" istio-proxy "*)
      echo "the sleep pod of $NAMESPACE has a sidecar in an ambient mesh: is the namespace labelled for injection too?" >&2
      exit 1
      ;;
    esac
    if [ "$redirection" = enabled ]; then
      echo "ambient: the sleep pod of $NAMESPACE is redirected to ztunnel (ambient.istio.io/redirection=enabled)"
      exit 0
    fi
    [ "$i" -lt "$attempts" ] && sleep 2
    continue
  fi
  containers="$(kubectl --kubeconfig "$kubeconfig" -n "$NAMESPACE" get pod -l app=sleep -o jsonpath='{.items[0].spec.containers[*].name}' 2>/dev/null || true)"
  init="$(kubectl --kubeconfig "$kubeconfig" -n "$NAMESPACE" get pod -l app=sleep -o jsonpath='{range .items[0].spec.initContainers[*]}{.name}={.restartPolicy}{" "}{end}' 2>/dev/null || true)"
  case " $containers " in
  *" istio-proxy "*)
    echo "sidecar: istio-proxy container in the sleep pod of $NAMESPACE"
    exit 0
    ;;
  esac
  case " $init " in
  *" istio-proxy=Always "*)
    echo "sidecar: native istio-proxy (init container, restartPolicy Always) in the sleep pod of $NAMESPACE"
    exit 0
    ;;
  esac
  [ "$i" -lt "$attempts" ] && sleep 2
done
if [ "\${MODE:-sidecar}" = ambient ]; then
  echo "the sleep pod of $NAMESPACE is not in the ambient mesh (ambient.istio.io/redirection: \${redirection:-unset}). Is the namespace labelled istio.io/dataplane-mode=ambient, and are istio-cni and ztunnel running on its node?" >&2
  exit 1
fi
echo "no istio-proxy sidecar in the sleep pod of $NAMESPACE (containers: \${containers:-none}; init containers: \${init:-none}). Is the namespace labelled for injection, and is istiod's revision serving?" >&2
exit 1
`;
}

export interface SidecarCheckArgs {
  readonly namespace: pulumi.Input<string>;
  /** The platform's data plane: a sidecar in the pod, or the ambient redirection. */
  readonly mode: "sidecar" | "ambient";
  readonly kubeconfig: pulumi.Input<string>;
  /** The workloads whose pods the check inspects: it runs after they are ready. */
  readonly after: pulumi.Resource[];
}

export function sidecarCheck(
  name: string,
  args: SidecarCheckArgs,
  opts?: pulumi.CustomResourceOptions,
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: sidecarCheckScript(),
      interpreter: ["/bin/sh", "-c"],
      environment: { NAMESPACE: args.namespace, MODE: args.mode, KUBECONFIG_DATA: args.kubeconfig },
      // Runs again whenever the workloads it checks are replaced.
      triggers: args.after.map((r) => r.urn),
    },
    { ...opts, dependsOn: args.after, additionalSecretOutputs: ["stdout", "stderr"] },
  );
}
