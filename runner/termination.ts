// The runner's result as a termination message: JSON, under 4 KiB (kubelet's limit), lists and texts cut to fit.

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
 * checks): the full result, with plan and health reports, is in the runner's log as its last JSON line.
 */
export function summarizeResult(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  if (Array.isArray(value.pods)) out.pods = value.pods.map(compactPod);
  const plan = value.plan as Record<string, unknown> | undefined;
  if (plan && typeof plan === 'object' && Array.isArray(plan.order)) {
    out.plan = {
      order: plan.order.map((o) => (o && typeof o === 'object' ? (o as Record<string, unknown>).podName : o)),
      totalTimeoutSeconds: plan.totalTimeoutSeconds,
      preflightFailedChecks: (plan.preflight as Record<string, unknown> | null | undefined)?.failedChecks ?? [],
      ...(plan.preflightDecision && typeof plan.preflightDecision === 'object'
        ? { preflightDecision: (plan.preflightDecision as Record<string, unknown>).outcome }
        : {}),
    };
  }
  if (value.decommission && typeof value.decommission === 'object') out.decommission = compactPod(value.decommission);
  for (const key of ['health', 'preflight'] as const) {
    if (value[key] && typeof value[key] === 'object') {
      const h = value[key] as Record<string, unknown>;
      out[key] = { healthy: h.healthy, healthStatus: h.healthStatus, failedChecks: h.failedChecks };
      const degraded = h.degraded as Record<string, unknown> | null | undefined;
      if (degraded && typeof degraded === 'object') (out[key] as Record<string, unknown>).degradedPods = degraded.pods;
    }
  }
  return out;
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
