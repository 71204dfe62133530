/**
 * How nodes are named (the Nova server, its hostname and its Kubernetes node name alike), shared by
 * the layout that creates them and the configuration check that keeps them short enough.
 */

/** A hostname label, and the `kubernetes.io/hostname` label value the kubelet sets from it, are at most 63 characters. */
export const NODE_NAME_MAX_LENGTH = 63;

/**
 * `<cluster>-<pool>-<index>`, with `-g<generation>` once a pool is rolled and `-r<repair>` once one node
 * is repaired (nodeRepairs): a new name, so the replacement is created beside the old node.
 */
export function nodeName(clusterName: string, pool: string, index: number, generation = 0, repair = 0): string {
  return [
    clusterName,
    pool,
    index,
    ...(generation > 0 ? [`g${generation}`] : []),
    ...(repair > 0 ? [`r${repair}`] : []),
  ].join("-");
}

/** The key of one node in nodeRepairs: `<pool>-<index>` (e.g. control-plane-1, general-2). */
export function repairKey(pool: string, index: number): string {
  return `${pool}-${index}`;
}
