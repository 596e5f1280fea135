// cluster.graceful_stop.* as one operation changes them: read (and recorded in the Lease) before the first SET, restored
// on every exit path (RESET when the value was CrateDB's default, else SET TRANSIENT back).
import { SQL } from './cluster-sql.js';
import { OperationFailedError, anyFailure, messageOf } from './errors.js';
import type { GracefulStopValues } from './lease.js';
import type { OperationContext } from './operation.js';
import { cleanupPause, retry } from './retry.js';

/** CrateDB's defaults of cluster.graceful_stop.timeout, .force and .min_availability. */
const GRACEFUL_STOP_DEFAULTS = { timeout: '2h', force: false, minAvailability: 'PRIMARIES' } as const;

/** CrateDB time value ('720s', '2h', '500ms', bare number = ms) in ms, or null. */
function timeValueMs(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d)?$/.exec(v.trim().toLowerCase());
  if (!m) return null;
  const f = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  return Number(m[1]) * f;
}

type GracefulStopLeaf = 'timeout' | 'force' | 'min_availability';

/** Is the remembered value the CrateDB default (or unknown, which is treated as the default)? */
function isGracefulStopDefault(leaf: GracefulStopLeaf, before: GracefulStopValues): boolean {
  if (leaf === 'timeout')
    return before.timeout === null || timeValueMs(before.timeout) === timeValueMs(GRACEFUL_STOP_DEFAULTS.timeout);
  if (leaf === 'force') return before.force !== true;
  return (
    before.minAvailability === null || before.minAvailability.toUpperCase() === GRACEFUL_STOP_DEFAULTS.minAvailability
  );
}

function leafValue(leaf: GracefulStopLeaf, before: GracefulStopValues): string {
  if (leaf === 'timeout') return before.timeout ?? GRACEFUL_STOP_DEFAULTS.timeout;
  if (leaf === 'force') return String(before.force ?? GRACEFUL_STOP_DEFAULTS.force);
  return before.minAvailability ?? GRACEFUL_STOP_DEFAULTS.minAvailability;
}

export function describeGracefulStop(before: GracefulStopValues): string {
  return (['timeout', 'force', 'min_availability'] as const)
    .map((leaf) => `${leaf}=${leafValue(leaf, before)}${isGracefulStopDefault(leaf, before) ? ' (default)' : ''}`)
    .join(', ');
}

/** One statement that puts graceful_stop settings back, and the settings it restores. */
interface RestoreStatement {
  stmt: string;
  leaves: GracefulStopLeaf[];
  /** RESET to the CrateDB default (else SET TRANSIENT back to the remembered value). */
  toDefault: boolean;
}

/**
 * The statements that put cluster.graceful_stop.* back: ONE `RESET GLOBAL` for every setting that was CrateDB's
 * default (the usual case: one statement, not three, after each pod), then one SET TRANSIENT per other setting.
 */
function restoreStatements(before: GracefulStopValues): RestoreStatement[] {
  const leaves = ['timeout', 'force', 'min_availability'] as const;
  const defaults = leaves.filter((leaf) => isGracefulStopDefault(leaf, before));
  const out: RestoreStatement[] = defaults.length
    ? [{ stmt: SQL.resetGracefulStop(defaults), leaves: [...defaults], toDefault: true }]
    : [];
  for (const leaf of leaves) {
    if (defaults.includes(leaf)) continue;
    const stmt =
      leaf === 'force' ? SQL.setGracefulStopForce(true) : SQL.restoreGracefulStop(leaf, leafValue(leaf, before));
    out.push({ stmt, leaves: [leaf], toDefault: false });
  }
  return out;
}

/** "timeout", "timeout and force", "timeout, force and min_availability". */
function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function asTimeValue(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return `${v}ms`;
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

/**
 * Before the manual strategy first SETs cluster.graceful_stop.*: read their effective values and record them in
 * the Lease (staged: the caller's next save writes them before the SET, so that a crashed run's retry still restores
 * them). Once per operation: a second pod,
 * or a resumed run, keeps what was recorded first (a new read would see this operation's own values).
 * Throws when the values cannot be read: nothing has been changed yet, and without them they could not be restored.
 */
export async function rememberGracefulStop(ctx: OperationContext): Promise<void> {
  if (ctx.gracefulStop.before) return;
  let res;
  try {
    res = await ctx.clusterSql.query(SQL.gracefulStopSettings, [], { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new OperationFailedError(
      `Could not read cluster.graceful_stop.* before changing them (nothing was changed): ${messageOf(err)}`,
      { cause: err },
    );
  }
  const row = res.rows[0] ?? [];
  const force = row[1];
  const before: GracefulStopValues = {
    timeout: asTimeValue(row[0]),
    force:
      typeof force === 'boolean'
        ? force
        : typeof force === 'string' && /^(true|false)$/i.test(force)
          ? force.toLowerCase() === 'true'
          : null,
    minAvailability: typeof row[2] === 'string' && row[2] ? row[2] : null,
  };
  ctx.gracefulStop.before = before;
  // Staged: the caller's next save writes it before the first SET (sendDrain: restrictAllocation's, before the
  // allocation SET that precedes the graceful_stop SETs); a crash before that save changed nothing to restore.
  ctx.lease?.stage({ gracefulStopBefore: before });
  ctx.deps.log.info(
    `Remembered cluster.graceful_stop.* before changing them: ${describeGracefulStop(before)}; they are restored at the end`,
  );
}

/**
 * Put cluster.graceful_stop.* back as they were before this operation set them: a value that was the CrateDB
 * default is RESET (clears both levels); any other value is SET back as TRANSIENT (sys.cluster shows only the
 * effective value, not its level). Runs on every exit path, ignoring the operation signal. Never throws.
 * True when nothing of this operation is left to restore.
 */
export async function restoreGracefulStop(ctx: OperationContext): Promise<boolean> {
  const before = ctx.gracefulStop.before;
  if (!before) return true;
  const { deps } = ctx;
  try {
    const heir = await ctx.lease?.gracefulStopHeir().catch(() => null);
    if (heir) {
      ctx.gracefulStop.heir = heir;
      deps.log.warn(
        `Lost the lock; restoring cluster.graceful_stop.* (${describeGracefulStop(before)}) is left to ${heir}, which took it over`,
      );
      return false;
    }
    const failed: string[] = [];
    for (const { stmt, leaves, toDefault } of restoreStatements(before)) {
      const names = `cluster.graceful_stop.${listed(leaves)}`;
      const values = listed(leaves.map((leaf) => leafValue(leaf, before)));
      let lastError = '';
      let ok = false;
      try {
        await retry(() => ctx.clusterSql.query(stmt, [], { timeoutMs: 30_000 }), {
          attempts: 3,
          retryable: anyFailure,
          beforeRetry: () => cleanupPause(deps),
        });
        ok = true;
      } catch (err) {
        lastError = messageOf(err);
      }
      if (ok) {
        deps.log.info(
          toDefault
            ? `Restored ${names} to the CrateDB ${leaves.length > 1 ? 'defaults' : 'default'} ${values} (${stmt})`
            : `Restored ${names} = ${values} as a transient setting (${stmt})`,
        );
      } else {
        failed.push(stmt);
        deps.log.error(
          `Could not restore ${names} (${leaves.length > 1 ? 'were' : 'was'} ${values}): ${lastError}. Run ${stmt} on the cluster`,
        );
      }
    }
    if (failed.length) return false;
    ctx.gracefulStop.before = null;
    // Staged: written with the next save (a rollout's 'done') or the release; a stale record only causes one more
    // (harmless) restore.
    ctx.lease?.stage({ gracefulStopBefore: null });
    return true;
  } catch (err) {
    deps.log.error(`Could not restore cluster.graceful_stop.* (${describeGracefulStop(before)}): ${messageOf(err)}`);
    return false;
  }
}
