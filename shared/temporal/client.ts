// Starting and following the maintenance workflows from a client (`rollout --temporal`, tests, a team's scripts):
// the engine's log lines come from the running activities' heartbeat details (printed once each, by sequence),
// the per-pod outcomes from the workflow's `progress` query; the end is the workflow's result or failure.
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  defaultPayloadConverter,
} from '@temporalio/common';
import type {
  ActivityProgress,
  ClusterMaintenanceInput,
  ClusterMaintenanceResult,
  ClusterProgress,
  FleetMaintenanceInput,
} from './contracts.js';

export async function connectClient(opts: { address: string; namespace?: string }): Promise<Client> {
  const connection = await Connection.connect({ address: opts.address, connectTimeout: '10s' });
  return new Client({ connection, namespace: opts.namespace ?? 'default' });
}

export function startClusterMaintenance(
  client: Client,
  opts: { taskQueue: string; workflowId: string; input: ClusterMaintenanceInput },
) {
  return client.workflow.start('clusterMaintenanceWorkflow', {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId,
    args: [opts.input],
  });
}

export function startFleetMaintenance(
  client: Client,
  opts: { taskQueue: string; workflowId: string; input: FleetMaintenanceInput },
) {
  return client.workflow.start('fleetMaintenanceWorkflow', {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId,
    args: [opts.input],
  });
}

export type FollowEnd = (
  | { status: 'succeeded'; result: unknown }
  | { status: 'failed'; error: string; errorKind: string; result: unknown }
  | { status: 'cancelled'; error: string; result: unknown }
  | { status: 'terminated' | 'timed_out'; error: string; result: null }
  | { status: 'detached' }
) & {
  /** Seconds from the workflow's start to its close (as the server recorded them), when known. */
  durationSeconds?: number;
};

export interface FollowOptions {
  /** One engine JSON log line (from the heartbeats), or a line the follower made from the progress query. */
  line(raw: string): void;
  signal?: AbortSignal;
  intervalMs?: number;
  now?: () => Date;
}

function decodeProgress(details: unknown): ActivityProgress | null {
  const payloads = (details as { payloads?: unknown[] } | null | undefined)?.payloads;
  if (!payloads?.length) return null;
  try {
    const v = defaultPayloadConverter.fromPayload(payloads[0] as never) as ActivityProgress;
    return v && typeof v.seq === 'number' && Array.isArray(v.lines) ? v : null;
  } catch {
    return null;
  }
}

/** The end of a workflow as a FollowEnd (its result, or the engine's failure with the result in its details). */
export async function workflowEnd(handle: WorkflowHandle): Promise<Exclude<FollowEnd, { status: 'detached' }>> {
  try {
    return { status: 'succeeded', result: await handle.result() };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure)
      return {
        status: 'failed',
        error: cause.message,
        errorKind: cause.type ?? 'failed',
        result: cause.details?.[0] ?? null,
      };
    if (cause instanceof CancelledFailure)
      return { status: 'cancelled', error: 'the workflow was cancelled', result: null };
    if (cause instanceof TerminatedFailure)
      return { status: 'terminated', error: `the workflow was terminated: ${cause.message}`, result: null };
    if (cause instanceof TimeoutFailure)
      return { status: 'timed_out', error: `the workflow timed out: ${cause.message}`, result: null };
    return { status: 'failed', error: cause?.message ?? err.message, errorKind: 'failed', result: null };
  }
}

/** Follow a clusterMaintenanceWorkflow to its end (or until `signal` aborts: detached). */
export async function followClusterMaintenance(handle: WorkflowHandle, opts: FollowOptions): Promise<FollowEnd> {
  const now = opts.now ?? (() => new Date());
  const seen = new Map<string, number>();
  const podStatus = new Map<string, string>();
  let phase = '';
  const made = (level: string, msg: string, fields: Record<string, unknown> = {}) =>
    opts.line(JSON.stringify({ ts: now().toISOString(), level, msg, ...fields }));
  const intervalMs = opts.intervalMs ?? 1000;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  let last: ClusterProgress | null = null;
  const report = (p: ClusterProgress) => {
    last = p;
    if (p.phase !== phase) {
      phase = p.phase;
      if (p.phase === 'restarting' && p.order.length)
        made('info', `Workflow order: ${p.order.join(', ')}`, { step: 'workflow' });
    }
    for (const [i, o] of p.pods.entries()) {
      if (podStatus.get(o.podName) === o.status) continue;
      podStatus.set(o.podName, o.status);
      if (o.status === 'running')
        made('info', `Restarting pod ${i + 1}/${p.pods.length}: ${o.podName}`, { pod: o.podName, step: 'restart' });
      if (o.status === 'restarted')
        made(
          'info',
          `Pod ${o.podName} restarted (new uid ${o.result?.newUid ?? '?'}; health gate: ${o.result?.health?.goodReadings ?? 0} good readings)`,
          { pod: o.podName, step: 'finish' },
        );
      if (o.status === 'skipped')
        made('info', `Pod ${o.podName} was already restarted by operation ${p.operationId}; skipped`, {
          pod: o.podName,
          step: 'restart',
        });
      if (o.status === 'failed')
        made('error', `Pod ${o.podName} failed: ${o.error ?? 'failed'}`, { pod: o.podName, step: 'finish' });
      if (o.status === 'cancelled')
        made('warn', `Pod ${o.podName}: cancelled, stopped safely (allocation reset, lock released)`, {
          pod: o.podName,
          step: 'finish',
        });
    }
  };
  for (;;) {
    if (opts.signal?.aborted) return { status: 'detached' };
    let running = true;
    try {
      const d = await handle.describe();
      running = d.status.name === 'RUNNING';
      try {
        // The per-pod outcomes first: "Restarting pod 2/3" comes before that pod's engine lines.
        report(await handle.query<ClusterProgress>('progress'));
      } catch {
        // no worker has run the workflow yet, or it just ended
      }
      for (const a of d.raw.pendingActivities ?? []) {
        const p = decodeProgress(a.heartbeatDetails);
        if (!p) continue;
        const id = a.activityId ?? '';
        const last = seen.get(id) ?? 0;
        const first = p.seq - p.lines.length + 1;
        if (last > 0 && first > last + 1)
          made(
            'warn',
            `(${first - last - 1} log lines of this activity were not seen: it logged faster than the heartbeats)`,
          );
        p.lines.forEach((l, i) => {
          if (first + i > last) opts.line(l);
        });
        seen.set(id, Math.max(last, p.seq));
      }
    } catch (err) {
      if (opts.signal?.aborted) return { status: 'detached' };
      made('warn', `cannot read the workflow (retrying): ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!running) break;
    await sleep(intervalMs);
  }
  const end: FollowEnd = await workflowEnd(handle);
  const seenLast = last as ClusterProgress | null;
  if (end.status === 'cancelled' && !end.result && seenLast) {
    // A cancelled workflow has no result: what it did is its last progress (each pod's outcome).
    end.result = {
      cluster: seenLast.cluster,
      namespace: seenLast.namespace,
      kubeContext: seenLast.kubeContext,
      operationId: seenLast.operationId,
      success: false,
      dryRun: false,
      error: end.error,
      errorKind: 'failed',
      plan: null,
      pods: seenLast.pods.map((o) => (o.status === 'running' ? { ...o, status: 'cancelled' as const } : o)),
    } satisfies ClusterMaintenanceResult;
  }
  const result = 'result' in end ? (end.result as ClusterMaintenanceResult | null) : null;
  if (result?.pods) {
    report({
      phase: end.status === 'succeeded' ? 'succeeded' : 'failed',
      cluster: result.cluster,
      namespace: result.namespace,
      kubeContext: result.kubeContext,
      operationId: result.operationId,
      order: result.pods.map((p) => p.podName),
      current: null,
      pods: result.pods,
      error: result.error,
    });
  }
  try {
    const d = await handle.describe();
    if (d.startTime && d.closeTime)
      end.durationSeconds = Math.max(0, (d.closeTime.getTime() - d.startTime.getTime()) / 1000);
  } catch {
    // the duration is only for the summary
  }
  return end;
}
