// One writer per cluster: a coordination.k8s.io/v1 Lease `crate-decommission-<cluster>`, taken,
// renewed ttl/3 after its last write (a progress save renews it too) and released; its annotations carry the operation's progress so that a
// re-run with the same operation id (a Job retry) resumes instead of starting over.
import type { V1Lease } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LockedError, OperationFailedError, isConflict, messageOf } from './errors.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from './labels.js';
import type { EngineDeps } from './ports.js';
import { retry } from './retry.js';

export const ANNOTATION_OPERATION = 'crate-decommission.crate.io/operation-id';
export const ANNOTATION_PROGRESS = 'crate-decommission.crate.io/progress';
export const DEFAULT_LEASE_SECONDS = 60;

/** Where the pod in progress is; decides what a resumed run does with it. */
export const ProgressStep = z.enum(['started', 'decommission-sent', 'deleting', 'deleted']);
export type ProgressStep = z.infer<typeof ProgressStep>;

/**
 * A step as a Lease may carry it: earlier versions declared an 'allocation-set' step (never written by the engine, and
 * resumed exactly as 'started'), so a Lease that holds it still resumes its pod instead of dropping it.
 */
const StoredProgressStep = z.preprocess((v) => (v === 'allocation-set' ? 'started' : v), ProgressStep);

export const PodProgress = z.object({
  pod: z.string(),
  oldUid: z.string(),
  nodeName: z.string().nullable(),
  step: StoredProgressStep,
  /** Container restartCount right before the decommission was sent (manual). */
  restartCount: z.number().int().nonnegative().optional(),
  /** containerID of the running CrateDB container right before the decommission was sent (manual). */
  containerId: z.string().nullable().optional(),
  /** Identity of the container's lastState.terminated right before the decommission (manual; null = none). */
  lastTerminated: z.string().nullable().optional(),
  /** Engine clock ms when the decommission was sent (manual; for people, never compared with the kubelet's times). */
  sentAt: z.number().optional(),
});
export type PodProgress = z.infer<typeof PodProgress>;

/**
 * The effective cluster.graceful_stop.* values before an operation first changed them (read from sys.cluster;
 * null = not known, treated as the CrateDB default). Restored on every exit path.
 */
export const GracefulStopValues = z.object({
  timeout: z.string().nullable().default(null),
  force: z.boolean().nullable().default(null),
  minAvailability: z.string().nullable().default(null),
});
export type GracefulStopValues = z.infer<typeof GracefulStopValues>;

/**
 * The operation's progress, as the Lease's progress annotation carries it (JSON): the one definition its writers
 * (acquire, save, release: progressText) and readers (acquire, the heir checks, rollingRestart's plan: parseProgress)
 * use. A Lease written by an older version lacks fields (gracefulStopBefore, minAvailabilityLabels, the manual
 * snapshot of the current pod): parseProgress reads field by field, so what is absent or unknown is empty, never a
 * reason to lose the rest.
 */
export const OperationProgress = z.object({
  operationId: z.string(),
  /** Pods this operation already restarted: name -> uid of the re-created pod. */
  done: z.record(z.string(), z.string()),
  current: PodProgress.nullable(),
  /** The allocation setting this operation set and has not reset yet. */
  allocationSet: z.string().nullable(),
  /** cluster.graceful_stop.* as they were before this operation set them, and not restored yet. */
  gracefulStopBefore: GracefulStopValues.nullable(),
  /**
   * StatefulSets whose `dc-util-min-availability` label this operation set to NONE (a restart without relocation,
   * kubernetes_managed), with the label's value before (null = it had none); restored on every exit path.
   */
  minAvailabilityLabels: z
    .record(z.string(), z.string().nullable())
    .nullable()
    .transform((v) => (v && Object.keys(v).length > 0 ? v : null)),
});
export type OperationProgress = z.infer<typeof OperationProgress>;

export function leaseName(clusterName: string): string {
  return `crate-decommission-${clusterName}`.slice(0, 253).replace(/-+$/, '');
}

function emptyProgress(operationId: string): OperationProgress {
  return {
    operationId,
    done: {},
    current: null,
    allocationSet: null,
    gracefulStopBefore: null,
    minAvailabilityLabels: null,
  };
}

/**
 * The progress in a Lease's annotation text, for `operationId` (the annotation's own operationId is not trusted: the
 * caller knows whose progress it reads). Absent, not JSON or not an object: no progress.
 */
export function parseProgress(text: string | undefined, operationId: string): OperationProgress {
  if (!text) return emptyProgress(operationId);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return emptyProgress(operationId);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return emptyProgress(operationId);
  const fields = raw as Record<string, unknown>;
  const progress = emptyProgress(operationId);
  const shape = OperationProgress.shape;
  for (const key of Object.keys(shape) as Array<keyof typeof shape>) {
    if (key === 'operationId') continue;
    const field = shape[key].safeParse(fields[key]);
    if (field.success) Object.assign(progress, { [key]: field.data });
  }
  return progress;
}

/** The annotation text of a progress: checked against the schema, so no writer stores what a reader would drop. */
function progressText(progress: OperationProgress): string {
  return JSON.stringify(OperationProgress.parse(progress));
}

/** The observer's own monotonic clock (ms): never another host's wall clock. */
function monotonic(deps: EngineDeps): number {
  return deps.clock.monotonic?.() ?? deps.clock.now();
}

/** What changes whenever the holder renews (or anyone writes): compared for equality only, never as times. */
function recordKey(lease: V1Lease): string {
  const t = lease.spec?.renewTime as unknown;
  const renew = t instanceof Date ? t.toISOString() : String(t ?? '');
  return `${lease.metadata?.resourceVersion ?? ''}|${renew}|${lease.spec?.holderIdentity ?? ''}`;
}

/** A holder identity unique to this run: the caller's name (user@host, the Job pod) and a random suffix. */
function uniqueHolder(base: string): string {
  return `${base.slice(0, 200)}-${randomBytes(4).toString('hex')}`;
}

/** Share of the TTL after which a holder that could not renew stops (client-go's renewDeadline/leaseDuration). */
const SELF_FENCE_FRACTION = 2 / 3;

export interface AcquireOptions {
  namespace: string;
  clusterName: string;
  operationId: string;
  holderIdentity?: string;
  leaseDurationSeconds?: number;
}

export class ClusterLease {
  /** Aborted when the Lease is lost to another holder (the operation must stop). */
  readonly lost: AbortSignal;
  private readonly lostController = new AbortController();
  private lease: V1Lease;
  private chain: Promise<void> = Promise.resolve();
  private readonly renewStop = new AbortController();
  private released = false;

  private constructor(
    private readonly deps: EngineDeps,
    readonly namespace: string,
    readonly name: string,
    readonly holder: string,
    readonly durationSeconds: number,
    lease: V1Lease,
    readonly progress: OperationProgress,
    /** True when this run took over the same operation from a crashed run. */
    readonly resumed: boolean,
  ) {
    this.lease = lease;
    this.lost = this.lostController.signal;
  }

  get operationId(): string {
    return this.progress.operationId;
  }

  /**
   * Take the cluster's Lease. Free, released or expired: take it (expired ones by a replace
   * carrying the resourceVersion). Held by the same operation id: take it over at once and
   * resume. Held by another live run: LockedError naming the holder.
   */
  static async acquire(deps: EngineDeps, opts: AcquireOptions): Promise<ClusterLease> {
    const name = leaseName(opts.clusterName);
    const holder = uniqueHolder(opts.holderIdentity ?? deps.holderIdentity ?? `crate-decommission-${process.pid}`);
    const durationSeconds = opts.leaseDurationSeconds ?? deps.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
    const { kube, clock, log } = deps;
    /** The other holder's record as first seen, on this run's monotonic clock (client-go's observedRecord/observedTime). */
    let observed: { key: string; at: number } | null = null;
    let conflicts = 0;
    /** The Lease is this run's (created or replaced): say so, keep it renewed. */
    const taken = (lease: V1Lease, progress: OperationProgress, resumed: boolean, message: string): ClusterLease => {
      log.info(message);
      return new ClusterLease(
        deps,
        opts.namespace,
        name,
        holder,
        durationSeconds,
        lease,
        progress,
        resumed,
      ).startRenewing();
    };
    /** A write that lost to another writer (409): true to look again (at most 5 times); other errors are thrown. */
    const lookAgain = (err: unknown): boolean => {
      if (!isConflict(err)) throw err;
      return ++conflicts < 5;
    };
    for (;;) {
      if (deps.signal?.aborted)
        throw deps.signal.reason instanceof Error ? deps.signal.reason : new Error('Operation aborted');
      const now = new Date(clock.now());
      const existing = await kube.getLease(opts.namespace, name);
      if (!existing) {
        const progress = emptyProgress(opts.operationId);
        try {
          const created = await kube.createLease(opts.namespace, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: {
              name,
              namespace: opts.namespace,
              labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
              annotations: {
                [ANNOTATION_OPERATION]: opts.operationId,
                [ANNOTATION_PROGRESS]: progressText(progress),
              },
            },
            spec: {
              holderIdentity: holder,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          });
          return taken(
            created,
            progress,
            false,
            `Took lock ${opts.namespace}/${name} as ${holder} (operation ${opts.operationId})`,
          );
        } catch (err) {
          if (lookAgain(err)) continue;
          break;
        }
      }
      const currentHolder = existing.spec?.holderIdentity ?? '';
      const ttlMs = (existing.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
      const existingOp = existing.metadata?.annotations?.[ANNOTATION_OPERATION] ?? '';
      const sameOperation = existingOp === opts.operationId;
      if (currentHolder && !sameOperation) {
        // Expiry as client-go's leader election judges it: on this run's own monotonic clock, from the moment it
        // last saw the record change. The holder's renewTime is another host's clock and is never compared with ours.
        const key = recordKey(existing);
        if (observed && observed.key !== key) {
          throw new LockedError(
            `Cluster ${opts.namespace}/${opts.clusterName} is locked by ${currentHolder} (operation ${existingOp || 'unknown'}, Lease ${name} renewed while this run watched it); wait for that run to finish or cancel it`,
            currentHolder,
          );
        }
        if (!observed) {
          observed = { key, at: monotonic(deps) };
          log.info(
            `Lock ${opts.namespace}/${name} is held by ${currentHolder} (operation ${existingOp || 'unknown'}); watching it for up to ${ttlMs / 1000}s: a live run renews it, a crashed one's expires`,
          );
        }
        const waitedMs = monotonic(deps) - observed.at;
        if (waitedMs < ttlMs) {
          await clock.delay(Math.max(1, Math.min(2000, ttlMs / 6, ttlMs - waitedMs)), deps.signal);
          continue;
        }
      }
      const previous = parseProgress(existing.metadata?.annotations?.[ANNOTATION_PROGRESS], opts.operationId);
      const progress = sameOperation ? previous : emptyProgress(opts.operationId);
      if (!sameOperation && previous.allocationSet) {
        // A crashed run of another operation left allocation restricted: we reset it at our end.
        log.warn(
          `The previous run (${existingOp || 'unknown operation'}) left cluster.routing.allocation.enable=${previous.allocationSet}; it will be reset`,
        );
        progress.allocationSet = previous.allocationSet;
      }
      if (!sameOperation && previous.gracefulStopBefore) {
        // Same for the graceful_stop settings it changed: we restore what it recorded at our end.
        log.warn(
          `The previous run (${existingOp || 'unknown operation'}) left cluster.graceful_stop.* changed; they will be restored`,
        );
        progress.gracefulStopBefore = previous.gracefulStopBefore;
      }
      if (!sameOperation && previous.minAvailabilityLabels) {
        // And for the dc-util-min-availability labels it set to NONE: we put them back at our end.
        log.warn(
          `The previous run (${existingOp || 'unknown operation'}) left label dc-util-min-availability=NONE on ${Object.keys(previous.minAvailabilityLabels).join(', ')}; it will be restored`,
        );
        progress.minAvailabilityLabels = previous.minAvailabilityLabels;
      }
      const resumed =
        sameOperation &&
        (Object.keys(progress.done).length > 0 ||
          progress.current !== null ||
          progress.allocationSet !== null ||
          progress.gracefulStopBefore !== null ||
          progress.minAvailabilityLabels !== null);
      const replacement: V1Lease = {
        ...existing,
        metadata: {
          ...existing.metadata,
          annotations: {
            ...(existing.metadata?.annotations ?? {}),
            [ANNOTATION_OPERATION]: opts.operationId,
            [ANNOTATION_PROGRESS]: progressText(progress),
          },
        },
        spec: {
          ...existing.spec,
          holderIdentity: holder,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + (currentHolder ? 1 : 0),
        },
      };
      try {
        const replaced = await kube.replaceLease(opts.namespace, replacement);
        return taken(
          replaced,
          progress,
          resumed,
          !currentHolder
            ? `Took lock ${opts.namespace}/${name} as ${holder} (operation ${opts.operationId})`
            : sameOperation
              ? `Took over lock ${opts.namespace}/${name} from ${currentHolder}: same operation ${opts.operationId}, resuming`
              : `Took over expired lock ${opts.namespace}/${name} from ${currentHolder} (not renewed for ${ttlMs / 1000}s as seen by this run)`,
        );
      } catch (err) {
        // Someone wrote it in between: look again (a change of another holder's record means it is alive).
        if (lookAgain(err)) continue;
        break;
      }
    }
    const latest = await kube.getLease(opts.namespace, name);
    const holderNow = latest?.spec?.holderIdentity ?? 'unknown';
    throw new LockedError(
      `Cluster ${opts.namespace}/${opts.clusterName} is locked by ${holderNow} (the Lease ${name} kept changing)`,
      holderNow,
    );
  }

  private startRenewing(): this {
    const ttlMs = this.durationSeconds * 1000;
    const intervalMs = Math.max(1, Math.floor(ttlMs / 3));
    /** After a failed renewal, try again this soon (client-go's retryPeriod). */
    const retryMs = Math.max(1, Math.floor(ttlMs / 12));
    const fenceAfterMs = ttlMs * SELF_FENCE_FRACTION;
    this.lastRenewed = monotonic(this.deps);
    // Any successful write (a progress save as much as a renewal) renews the Lease: another run judges it by the
    // record changing, not by who wrote it. So the renewal waits a full interval after the LAST successful write and
    // is only sent in a quiet period (a long drain, a slow pod start): a roll that saves every few seconds renews
    // by its saves alone (docs/engine.md, "Lock and resume").
    void (async () => {
      let waitMs = intervalMs;
      for (;;) {
        try {
          await this.deps.clock.delay(waitMs, this.renewStop.signal);
        } catch {
          return;
        }
        if (this.released || this.lost.aborted) return;
        const sinceMs = monotonic(this.deps) - this.lastRenewed;
        if (sinceMs < intervalMs) {
          // Written since: the timer restarts from that write.
          waitMs = Math.max(1, intervalMs - sinceMs);
          continue;
        }
        const ok = await this.enqueue(() => this.write({}, 'renew')).then(
          () => true,
          () => false,
        );
        waitMs = ok ? intervalMs : retryMs;
      }
    })();
    // Self-fencing: a run that could not renew for 2/3 of the TTL stops before another run may take the Lease over
    // (it judges expiry after a full TTL without change on its own clock). Checked apart from the writes, which may hang.
    void (async () => {
      for (;;) {
        try {
          await this.deps.clock.delay(Math.max(1, Math.floor(ttlMs / 24)), this.renewStop.signal);
        } catch {
          return;
        }
        if (this.released || this.lost.aborted) return;
        const sinceMs = monotonic(this.deps) - this.lastRenewed;
        if (sinceMs >= fenceAfterMs) {
          const message = `No renewal of lock ${this.namespace}/${this.name} succeeded for ${Math.round(sinceMs / 1000)}s (${Math.round(SELF_FENCE_FRACTION * 100)}% of its ${this.durationSeconds}s TTL); stopping before another run may take it over`;
          this.deps.log.error(message);
          this.lostController.abort(new OperationFailedError(message));
          return;
        }
      }
    })();
    return this;
  }

  /** Monotonic ms of the last successful write (acquire, renewal, progress). */
  private lastRenewed = 0;
  /** Set when another holder has the Lease (not when this run fenced itself). */
  private lostTo: string | null = null;

  /** Record progress in the Lease (serialized with renewals). Throws when it could not be written, or the Lease was lost. */
  async save(update: Partial<Omit<OperationProgress, 'operationId'>>): Promise<void> {
    // Checked before it is kept: a value the schema refuses fails this save, never the renewals after it.
    Object.assign(this.progress, OperationProgress.parse({ ...this.progress, ...update }));
    await this.bounded(
      this.enqueue(() => this.write({}, 'progress')),
      'progress',
    );
  }

  /**
   * Record progress without writing it now: it goes out with the next write (a save, a renewal or the release). For
   * records whose loss in a crash changes no resume decision: a step that resumes exactly as the one already
   * written, a record that the caller's next save writes before anything irreversible, or a cleared record whose
   * stale copy only causes one more harmless restore (docs/engine.md, "Lock and resume": which saves write).
   */
  stage(update: Partial<Omit<OperationProgress, 'operationId'>>): void {
    Object.assign(this.progress, OperationProgress.parse({ ...this.progress, ...update }));
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /** A save must not hang the operation: it fails when the Lease is lost (or fenced) while it waits. */
  private bounded(p: Promise<void>, why: string): Promise<void> {
    if (this.lost.aborted) {
      p.catch(() => {});
      return Promise.reject(this.lostReason());
    }
    return new Promise<void>((resolve, reject) => {
      const onLost = () => reject(this.lostReason());
      this.lost.addEventListener('abort', onLost, { once: true });
      p.then(
        () => {
          this.lost.removeEventListener('abort', onLost);
          resolve();
        },
        (err: unknown) => {
          this.lost.removeEventListener('abort', onLost);
          reject(
            err instanceof Error
              ? err
              : new Error(`Could not write the ${why} to lock ${this.namespace}/${this.name}: ${messageOf(err)}`),
          );
        },
      );
    });
  }

  private lostReason(): Error {
    const r: unknown = this.lost.reason;
    return r instanceof Error ? r : new Error(`Lost lock ${this.namespace}/${this.name}`);
  }

  /** One write (renewal, progress, release) with up to 3 tries on conflicts; throws when it gives up. */
  private async write(extra: { holderIdentity?: string | null }, why: 'renew' | 'progress' | 'release'): Promise<void> {
    if (this.lostTo !== null) throw this.lostReason();
    const what = `${why === 'renew' ? 'renew' : 'update'} lock ${this.namespace}/${this.name}`;
    try {
      await retry(() => this.replace(extra), {
        attempts: 3,
        retryable: isConflict,
        // Someone else wrote the Lease: re-read it; still ours, write again over the fresh copy.
        beforeRetry: () => this.rereadOrLose(),
      });
    } catch (err) {
      if (err instanceof LockedError) throw err;
      if (!isConflict(err)) {
        this.deps.log.warn(`Could not ${what}: ${messageOf(err)}`);
        throw err;
      }
      await this.rereadOrLose();
      const message = `Could not ${what}: it kept changing (${messageOf(err)})`;
      this.deps.log.warn(message);
      throw new OperationFailedError(message, { cause: err });
    }
  }

  /** After a conflict: the Lease as it is now; when another run holds it, the lock is lost (LockedError). */
  private async rereadOrLose(): Promise<void> {
    const fresh = await this.deps.kube.getLease(this.namespace, this.name);
    if (!fresh || fresh.spec?.holderIdentity !== this.holder) {
      const other = fresh?.spec?.holderIdentity ?? 'nobody';
      this.lostTo = other;
      const lost = new LockedError(`Lost lock ${this.namespace}/${this.name} to ${other}; stopping`, other);
      if (!this.lost.aborted) this.lostController.abort(lost);
      this.deps.log.error(lost.message);
      throw lost;
    }
    this.lease = fresh;
  }

  /** One replace of the Lease as this run holds it (renewTime now, the progress annotation). */
  private async replace(extra: { holderIdentity?: string | null }): Promise<void> {
    const now = new Date(this.deps.clock.now());
    const spec = { ...this.lease.spec, renewTime: now };
    if (extra.holderIdentity === null) delete spec.holderIdentity;
    const body: V1Lease = {
      ...this.lease,
      metadata: {
        ...this.lease.metadata,
        annotations: {
          ...(this.lease.metadata?.annotations ?? {}),
          [ANNOTATION_PROGRESS]: progressText(this.progress),
        },
      },
      spec,
    };
    const startedAt = monotonic(this.deps);
    this.lease = await this.deps.kube.replaceLease(this.namespace, body);
    // Renewed as of when the request was sent (the API server may have taken a while to answer).
    this.lastRenewed = Math.max(this.lastRenewed, startedAt);
  }

  /**
   * After the Lease was lost: the holder that took it over and carries `allocationSet` in its progress
   * (it resets the setting at its end), or null when nobody took that responsibility over.
   */
  async allocationHeir(): Promise<string | null> {
    return this.heir((p) => p.allocationSet !== null);
  }

  /** Like allocationHeir, for the recorded graceful_stop values (`gracefulStopBefore`). */
  async gracefulStopHeir(): Promise<string | null> {
    return this.heir((p) => p.gracefulStopBefore !== null);
  }

  /** Like allocationHeir, for the dc-util-min-availability labels this run set (`minAvailabilityLabels`). */
  async minAvailabilityLabelHeir(): Promise<string | null> {
    return this.heir((p) => p.minAvailabilityLabels !== null);
  }

  private async heir(carries: (p: OperationProgress) => boolean): Promise<string | null> {
    if (!this.lost.aborted) return null;
    const fresh = await this.deps.kube.getLease(this.namespace, this.name);
    const holder = fresh?.spec?.holderIdentity;
    if (!fresh || !holder || holder === this.holder) return null;
    const progress = parseProgress(
      fresh.metadata?.annotations?.[ANNOTATION_PROGRESS],
      fresh.metadata?.annotations?.[ANNOTATION_OPERATION] ?? '',
    );
    return carries(progress) ? holder : null;
  }

  /** Release: stop renewing and clear the holder (the progress stays for a retry of the same operation). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.renewStop.abort();
    if (this.lostTo !== null) return;
    // Bounded: a hung API request must not keep the process from ending (the Lease then expires on its own).
    const stop = new AbortController();
    const timeout = this.deps.clock.delay(Math.max(1000, (this.durationSeconds * 1000) / 3), stop.signal).then(
      () => {
        throw new Error(`no answer within ${Math.round(this.durationSeconds / 3)}s`);
      },
      () => {},
    );
    try {
      await Promise.race([this.enqueue(() => this.write({ holderIdentity: null }, 'release')), timeout]);
      this.deps.log.info(`Released lock ${this.namespace}/${this.name}`);
    } catch (err) {
      if (this.lostTo !== null) return;
      this.deps.log.warn(
        `Could not release lock ${this.namespace}/${this.name} (it expires ${this.durationSeconds}s after its last renewal): ${messageOf(err)}`,
      );
    } finally {
      stop.abort();
    }
  }
}
