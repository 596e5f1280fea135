// The runner's result as a termination message: JSON, under 4 KiB (kubelet's limit), lists and texts cut to fit.
import { OUTCOME_FIELD, outcomeKindOf } from '../shared/task/index.js';

/** Kubelet keeps at most 4096 bytes of a termination message; stay below with room to spare. */
export const TERMINATION_MESSAGE_LIMIT = 4000;

const LEVELS: Array<[maxItems: number, maxText: number]> = [
  [50, 1000],
  [20, 400],
  [10, 200],
  [5, 120],
  [2, 80],
  [0, 60],
];

/** A pod's outcome as the termination message carries it: what the plugin prints, no nested reports. */
function compactPod(p: unknown): unknown {
  if (!p || typeof p !== 'object') return p;
  const r = p as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of [
    'podName',
    'success',
    'skipped',
    'strategyUsed',
    'duration',
    'error',
    'errorKind',
    'oldUid',
    'newUid',
  ]) {
    if (key in r) out[key] = r[key];
  }
  return out;
}

/**
 * The result reduced to what a reader of the termination message needs (outcome, per-pod outcome, failed
 * checks), by the record's kind (its `outcome`): the full result, with plan and health reports, is in the runner's
 * log as its last JSON line.
 */
export function summarizeResult(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  switch (outcomeKindOf(value)) {
    case 'rollout':
      if (Array.isArray(value.pods)) out.pods = value.pods.map(compactPod);
      if (value.plan && typeof value.plan === 'object' && Array.isArray((value.plan as { order?: unknown }).order))
        out.plan = summarizePlan(value.plan as Record<string, unknown> & { order: unknown[] });
      break;
    case 'restart':
      if (value.decommission && typeof value.decommission === 'object')
        out.decommission = compactPod(value.decommission);
      summarizeHealth(value, out, 'health');
      summarizeHealth(value, out, 'preflight');
      break;
    case 'decommission':
    case 'plan':
      summarizeHealth(value, out, 'preflight');
      break;
    case 'health':
    case 'failed':
      break;
  }
  return out;
}

/** A rollout's plan: the pods in order, the total timeout, the pre-flight's failed checks and decision. */
function summarizePlan(plan: Record<string, unknown> & { order: unknown[] }): Record<string, unknown> {
  return {
    order: plan.order.map((o) => (o && typeof o === 'object' ? (o as Record<string, unknown>).podName : o)),
    totalTimeoutSeconds: plan.totalTimeoutSeconds,
    preflightFailedChecks: (plan.preflight as Record<string, unknown> | null | undefined)?.failedChecks ?? [],
    ...(plan.preflightDecision && typeof plan.preflightDecision === 'object'
      ? { preflightDecision: (plan.preflightDecision as Record<string, unknown>).outcome }
      : {}),
  };
}

/** A nested health reading (a pod's gate, a pre-flight): healthy, status, failed checks, the degraded pods. */
function summarizeHealth(value: Record<string, unknown>, out: Record<string, unknown>, key: 'health' | 'preflight') {
  const h = value[key];
  if (!h || typeof h !== 'object') return;
  const r = h as Record<string, unknown>;
  const summary: Record<string, unknown> = {
    healthy: r.healthy,
    healthStatus: r.healthStatus,
    failedChecks: r.failedChecks,
  };
  const degraded = r.degraded as Record<string, unknown> | null | undefined;
  if (degraded && typeof degraded === 'object') summary.degradedPods = degraded.pods;
  out[key] = summary;
}

/** JSON of `value` in at most `limit` bytes: arrays and strings shortened (with `truncated: true`) when needed. */
export function fitTerminationMessage(value: Record<string, unknown>, limit = TERMINATION_MESSAGE_LIMIT): string {
  const full = JSON.stringify(value);
  if (Buffer.byteLength(full) <= limit) return full;
  const summary = summarizeResult(value);
  const summarized = JSON.stringify(summary);
  if (Buffer.byteLength(summarized) <= limit) return summarized;
  value = summary;
  for (const [maxItems, maxText] of LEVELS) {
    const cut = { ...(shrink(value, maxItems, maxText, 0) as Record<string, unknown>), truncated: true };
    const text = JSON.stringify(cut);
    if (Buffer.byteLength(text) <= limit) return text;
  }
  // Last resort: the fields a caller needs to decide what happened.
  const minimal: Record<string, unknown> = { truncated: true };
  for (const key of [
    OUTCOME_FIELD,
    'operation',
    'namespace',
    'target',
    'operationId',
    'exitCode',
    'success',
    'healthy',
    'errorKind',
  ]) {
    if (key in value) minimal[key] = value[key];
  }
  if (typeof value.error === 'string') minimal.error = value.error.slice(0, 500);
  let text = JSON.stringify(minimal);
  while (Buffer.byteLength(text) > limit && typeof minimal.error === 'string' && minimal.error.length > 0) {
    minimal.error = minimal.error.slice(0, Math.floor(minimal.error.length / 2));
    text = JSON.stringify(minimal);
  }
  return text;
}

function shrink(value: unknown, maxItems: number, maxText: number, depth: number): unknown {
  if (typeof value === 'string') return value.length > maxText ? `${value.slice(0, maxText)}…` : value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, maxItems).map((v) => shrink(v, maxItems, maxText, depth + 1));
    // Objects stay objects (readers iterate them); the count of what was cut is its own entry.
    if (value.length > maxItems) kept.push({ omitted: value.length - maxItems });
    return kept;
  }
  if (value && typeof value === 'object') {
    if (depth > 6) return '…';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shrink(v, maxItems, maxText, depth + 1);
    return out;
  }
  return value;
}
