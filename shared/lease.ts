// One writer per cluster: a coordination.k8s.io/v1 Lease `crate-decommission-<cluster>`, taken,
// renewed every ttl/3 and released; its annotations carry the operation's progress so that a
// re-run with the same operation id (a Job retry) resumes instead of starting over.
import type { V1Lease } from '@kubernetes/client-node';
import { KubeApiError, LockedError, messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';

export const ANNOTATION_OPERATION = 'crate-decommission.crate.io/operation-id';
export const ANNOTATION_PROGRESS = 'crate-decommission.crate.io/progress';
export const DEFAULT_LEASE_SECONDS = 60;

/** Where the pod in progress is; decides what a resumed run does with it. */
export type ProgressStep = 'started' | 'allocation-set' | 'decommission-sent' | 'deleting' | 'deleted';

export interface PodProgress {
  pod: string;
  oldUid: string;
  nodeName: string | null;
  step: ProgressStep;
  /** Container restartCount right before the decommission was sent (manual). */
  restartCount?: number;
  /** containerID of the running CrateDB container right before the decommission was sent (manual). */
  containerId?: string | null;
  /** Identity of the container's lastState.terminated right before the decommission (manual; null = none). */
  lastTerminated?: string | null;
  /** Engine clock ms when the decommission was sent (manual; for people, never compared with the kubelet's times). */
  sentAt?: number;
}

/**
 * The effective cluster.graceful_stop.* values before an operation first changed them (read from sys.cluster;
 * null = not known, treated as the CrateDB default). Restored on every exit path.
 */
export interface GracefulStopValues {
  timeout: string | null;
  force: boolean | null;
  minAvailability: string | null;
}

export interface OperationProgress {
  operationId: string;
  /** Pods this operation already restarted: name -> uid of the re-created pod. */
  done: Record<string, string>;
  current: PodProgress | null;
  /** The allocation setting this operation set and has not reset yet. */
  allocationSet: string | null;
  /** cluster.graceful_stop.* as they were before this operation set them, and not restored yet. */
  gracefulStopBefore: GracefulStopValues | null;
}

export function leaseName(clusterName: string): string {
  return `crate-decommission-${clusterName}`.slice(0, 253).replace(/-+$/, '');
}

function emptyProgress(operationId: string): OperationProgress {
  return { operationId, done: {}, current: null, allocationSet: null, gracefulStopBefore: null };
}

function parseProgress(text: string | undefined, operationId: string): OperationProgress {
  if (!text) return emptyProgress(operationId);
  try {
    const p = JSON.parse(text) as Partial<OperationProgress>;
    return {
      operationId,
      done: p.done && typeof p.done === 'object' ? { ...p.done } : {},
      current: p.current ?? null,
      allocationSet: p.allocationSet ?? null,
      gracefulStopBefore: parseGracefulStop(p.gracefulStopBefore),
    };
  } catch {
    return emptyProgress(operationId);
  }
}

function parseGracefulStop(v: unknown): GracefulStopValues | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return {
    timeout: typeof o.timeout === 'string' ? o.timeout : null,
    force: typeof o.force === 'boolean' ? o.force : null,
    minAvailability: typeof o.minAvailability === 'string' ? o.minAvailability : null,
  };
}

function timeOf(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

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
    const holder = opts.holderIdentity ?? deps.holderIdentity ?? `crate-decommission-${process.pid}`;
    const duration = opts.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
    const { kube, clock, log } = deps;
    for (let attempt = 0; attempt < 5; attempt++) {
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
              labels: { 'app.kubernetes.io/managed-by': 'crate-decommission' },
              annotations: { [ANNOTATION_OPERATION]: opts.operationId, [ANNOTATION_PROGRESS]: JSON.stringify(progress) },
            },
            spec: { holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          });
          log.info(`Took lock ${opts.namespace}/${name} as ${holder} (operation ${opts.operationId})`);
          return new ClusterLease(deps, opts.namespace, name, holder, duration, created, progress, false).startRenewing();
        } catch (err) {
          if (err instanceof KubeApiError && err.statusCode === 409) continue;
          throw err;
        }
      }
      const currentHolder = existing.spec?.holderIdentity ?? '';
      const renewedAt = timeOf(existing.spec?.renewTime) ?? timeOf(existing.spec?.acquireTime);
      const ttl = (existing.spec?.leaseDurationSeconds ?? duration) * 1000;
      const expired = !currentHolder || renewedAt === null || renewedAt + ttl <= now.getTime();
      const existingOp = existing.metadata?.annotations?.[ANNOTATION_OPERATION] ?? '';
      const sameOperation = existingOp === opts.operationId;
      if (!expired && !sameOperation) {
        const until = renewedAt === null ? 'unknown' : new Date(renewedAt + ttl).toISOString();
        throw new LockedError(
          `Cluster ${opts.namespace}/${opts.clusterName} is locked by ${currentHolder} (operation ${existingOp || 'unknown'}, Lease ${name} valid until ${until}); wait for that run to finish or cancel it`,
          currentHolder,
        );
      }
      const previous = parseProgress(existing.metadata?.annotations?.[ANNOTATION_PROGRESS], opts.operationId);
      const progress = sameOperation ? previous : emptyProgress(opts.operationId);
      if (!sameOperation && previous.allocationSet) {
        // A crashed run of another operation left allocation restricted: we reset it at our end.
        log.warn(`The previous run (${existingOp || 'unknown operation'}) left cluster.routing.allocation.enable=${previous.allocationSet}; it will be reset`);
        progress.allocationSet = previous.allocationSet;
      }
      if (!sameOperation && previous.gracefulStopBefore) {
        // Same for the graceful_stop settings it changed: we restore what it recorded at our end.
        log.warn(`The previous run (${existingOp || 'unknown operation'}) left cluster.graceful_stop.* changed; they will be restored`);
        progress.gracefulStopBefore = previous.gracefulStopBefore;
      }
      const resumed =
        sameOperation && (Object.keys(progress.done).length > 0 || progress.current !== null || progress.allocationSet !== null || progress.gracefulStopBefore !== null);
      const replacement: V1Lease = {
        ...existing,
        metadata: {
          ...existing.metadata,
          annotations: { ...(existing.metadata?.annotations ?? {}), [ANNOTATION_OPERATION]: opts.operationId, [ANNOTATION_PROGRESS]: JSON.stringify(progress) },
        },
        spec: {
          ...existing.spec,
          holderIdentity: holder,
          leaseDurationSeconds: duration,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + (currentHolder && currentHolder !== holder ? 1 : 0),
        },
      };
      try {
        const taken = await kube.replaceLease(opts.namespace, replacement);
        if (currentHolder && currentHolder !== holder) {
          log.info(
            sameOperation
              ? `Took over lock ${opts.namespace}/${name} from ${currentHolder}: same operation ${opts.operationId}, resuming`
              : `Took over expired lock ${opts.namespace}/${name} from ${currentHolder}`,
          );
        } else {
          log.info(`Took lock ${opts.namespace}/${name} as ${holder} (operation ${opts.operationId})`);
        }
        return new ClusterLease(deps, opts.namespace, name, holder, duration, taken, progress, resumed).startRenewing();
      } catch (err) {
        if (err instanceof KubeApiError && err.statusCode === 409) continue;
        throw err;
      }
    }
    const latest = await kube.getLease(opts.namespace, name);
    const holderNow = latest?.spec?.holderIdentity ?? 'unknown';
    throw new LockedError(`Cluster ${opts.namespace}/${opts.clusterName} is locked by ${holderNow} (the Lease ${name} kept changing)`, holderNow);
  }

  private startRenewing(): this {
    const interval = Math.max(1, Math.floor((this.durationSeconds * 1000) / 3));
    void (async () => {
      for (;;) {
        try {
          await this.deps.clock.delay(interval, this.renewStop.signal);
        } catch {
          return;
        }
        if (this.released) return;
        await this.enqueue(() => this.write({}, 'renew')).catch(() => {});
      }
    })();
    return this;
  }

  /** Record progress in the Lease (serialized with renewals). */
  async save(update: Partial<Omit<OperationProgress, 'operationId'>>): Promise<void> {
    Object.assign(this.progress, update);
    await this.enqueue(() => this.write({}, 'progress'));
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private async write(extra: { holderIdentity?: string | null }, why: 'renew' | 'progress' | 'release'): Promise<void> {
    if (this.lost.aborted) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = new Date(this.deps.clock.now());
      const spec = { ...this.lease.spec, renewTime: now };
      if (extra.holderIdentity === null) delete spec.holderIdentity;
      const body: V1Lease = {
        ...this.lease,
        metadata: {
          ...this.lease.metadata,
          annotations: { ...(this.lease.metadata?.annotations ?? {}), [ANNOTATION_PROGRESS]: JSON.stringify(this.progress) },
        },
        spec,
      };
      try {
        this.lease = await this.deps.kube.replaceLease(this.namespace, body);
        return;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.statusCode === 409)) {
          this.deps.log.warn(`Could not ${why === 'renew' ? 'renew' : 'update'} lock ${this.namespace}/${this.name}: ${messageOf(err)}`);
          throw err;
        }
        const fresh = await this.deps.kube.getLease(this.namespace, this.name);
        if (!fresh || fresh.spec?.holderIdentity !== this.holder) {
          const other = fresh?.spec?.holderIdentity ?? 'nobody';
          this.lostController.abort(new LockedError(`Lost lock ${this.namespace}/${this.name} to ${other}; stopping`, other));
          this.deps.log.error(`Lost lock ${this.namespace}/${this.name} to ${other}; stopping`);
          return;
        }
        this.lease = fresh;
      }
    }
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

  private async heir(carries: (p: OperationProgress) => boolean): Promise<string | null> {
    if (!this.lost.aborted) return null;
    const fresh = await this.deps.kube.getLease(this.namespace, this.name);
    const holder = fresh?.spec?.holderIdentity;
    if (!fresh || !holder || holder === this.holder) return null;
    const progress = parseProgress(fresh.metadata?.annotations?.[ANNOTATION_PROGRESS], fresh.metadata?.annotations?.[ANNOTATION_OPERATION] ?? '');
    return carries(progress) ? holder : null;
  }

  /** Release: stop renewing and clear the holder (the progress stays for a retry of the same operation). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.renewStop.abort();
    try {
      await this.enqueue(() => this.write({ holderIdentity: null }, 'release'));
      this.deps.log.info(`Released lock ${this.namespace}/${this.name}`);
    } catch (err) {
      this.deps.log.warn(`Could not release lock ${this.namespace}/${this.name} (it expires in ${this.durationSeconds}s): ${messageOf(err)}`);
    }
  }
}
