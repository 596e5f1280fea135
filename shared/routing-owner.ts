// Who owns cluster.routing.allocation.enable: the StatefulSet label `dc-util-routing-owner=<owner>-<unix seconds>`
// (the label dc_util and crate-operator both read). crate-operator writes `operator-<ts>` for its own restart and dc_util leaves the setting
// alone while such a label is at most 2 h off its clock. This tool writes `crate-decommission-<ts>`.
// Rule (issue 8 item 6): while a foreign owner's label younger than 2 h is on a StatefulSet of the cluster, refuse
// (LockedError, exit 5, naming the owner and its age); never remove or overwrite a label this tool did not write.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { LockedError, messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';
import type { CrateDBCluster } from './schemas.js';

export const LABEL_ROUTING_OWNER = 'dc-util-routing-owner';
/** The owner part of the labels this tool writes. */
const OWN_ROUTING_OWNER = 'crate-decommission';
/** dc_util's routingOwnerTTL: a label further off than this is stale. */
const ROUTING_OWNER_TTL_SECONDS = 2 * 3600;

/** Our own label value for now. */
export function ownRoutingOwnerValue(nowMs: number): string {
  return `${OWN_ROUTING_OWNER}-${Math.floor(nowMs / 1000)}`;
}

/** Did this tool write the label? (`crate-decommission-<unix s>`) */
export function isOwnRoutingOwner(value: string | undefined | null): boolean {
  return !!value && /^crate-decommission-\d+$/.test(value);
}

interface RoutingOwner {
  statefulSet: string;
  value: string;
  owner: string;
  /** Seconds since the label's timestamp on our clock (negative: the writer's clock is ahead); null when unreadable. */
  ageSeconds: number | null;
}

/** `<owner>-<unix seconds>` -> owner and age; the timestamp is whatever follows the last '-'. */
export function parseRoutingOwner(statefulSet: string, value: string, nowMs: number): RoutingOwner {
  const cut = value.lastIndexOf('-');
  const ts = cut > 0 ? value.slice(cut + 1) : '';
  const owner = cut > 0 ? value.slice(0, cut) : value;
  const ageSeconds = /^\d+$/.test(ts) ? Math.floor(nowMs / 1000) - Number(ts) : null;
  return { statefulSet, value, owner, ageSeconds };
}

/** Is this foreign label live, i.e. at most 2 h off our clock (either way, as dc_util judges it)? */
export function isLiveForeignOwner(o: RoutingOwner): boolean {
  return !isOwnRoutingOwner(o.value) && o.ageSeconds !== null && Math.abs(o.ageSeconds) <= ROUTING_OWNER_TTL_SECONDS;
}

function describeAge(seconds: number): string {
  const s = Math.abs(seconds);
  const text =
    s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return seconds < 0 ? `${text} in the future (its writer's clock is ahead)` : `${text} old`;
}

/**
 * The routing-owner labels on the cluster's StatefulSets now (live reads; a failed read is logged and skipped), and
 * the StatefulSets as read (absent: the read failed; null: not found), for the caller's next check or write.
 */
async function routingOwners(
  deps: EngineDeps,
  cluster: CrateDBCluster,
): Promise<{ owners: RoutingOwner[]; read: Map<string, V1StatefulSet | null> }> {
  const found: RoutingOwner[] = [];
  const read = new Map<string, V1StatefulSet | null>();
  for (const s of cluster.statefulSets) {
    let value: string | undefined;
    try {
      const live = await deps.kube.getStatefulSet(cluster.namespace, s.name);
      read.set(s.name, live);
      value = live?.metadata?.labels?.[LABEL_ROUTING_OWNER];
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      deps.log.warn(
        `Could not read StatefulSet ${cluster.namespace}/${s.name} for its ${LABEL_ROUTING_OWNER} label: ${messageOf(err)}`,
      );
      continue;
    }
    if (value) found.push(parseRoutingOwner(s.name, value, deps.clock.now()));
  }
  return { owners: found, read };
}

/**
 * Throws LockedError while another owner (crate-operator's restart) holds the allocation setting. Returns the
 * StatefulSets as read for it (see routingOwners), so the caller's next check or write needs no read of its own.
 */
export async function refuseForeignRoutingOwner(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  what = 'this operation',
): Promise<Map<string, V1StatefulSet | null>> {
  const { owners, read } = await routingOwners(deps, cluster);
  for (const o of owners) {
    if (isOwnRoutingOwner(o.value)) continue;
    if (o.ageSeconds === null) {
      deps.log.warn(
        `StatefulSet ${cluster.namespace}/${o.statefulSet} has label ${LABEL_ROUTING_OWNER}=${o.value} without a timestamp; dc_util ignores it, and so do we (it is never removed)`,
      );
      continue;
    }
    if (!isLiveForeignOwner(o)) {
      deps.log.warn(
        `StatefulSet ${cluster.namespace}/${o.statefulSet} has a stale label ${LABEL_ROUTING_OWNER}=${o.value} (${describeAge(o.ageSeconds)}, more than 2h): going on, and leaving the label as it is`,
      );
      continue;
    }
    throw new LockedError(
      `Cluster ${cluster.namespace}/${cluster.name} is locked by ${o.owner}: StatefulSet ${o.statefulSet} has label ${LABEL_ROUTING_OWNER}=${o.value} (${describeAge(o.ageSeconds)}, younger than 2h), so ${o.owner === 'operator' ? 'crate-operator' : o.owner} owns cluster.routing.allocation.enable (e.g. its own restart); refusing ${what} until it removes the label or it is 2h old`,
      o.value,
    );
  }
  return read;
}
