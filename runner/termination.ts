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

/** JSON of `value` in at most `limit` bytes: arrays and strings shortened (with `truncated: true`) when needed. */
export function fitTerminationMessage(value: Record<string, unknown>, limit = TERMINATION_MESSAGE_LIMIT): string {
  const full = JSON.stringify(value);
  if (Buffer.byteLength(full) <= limit) return full;
  for (const [maxItems, maxText] of LEVELS) {
    const cut = { ...(shrink(value, maxItems, maxText, 0) as Record<string, unknown>), truncated: true };
    const text = JSON.stringify(cut);
    if (Buffer.byteLength(text) <= limit) return text;
  }
  // Last resort: the fields a caller needs to decide what happened.
  const minimal: Record<string, unknown> = { truncated: true };
  for (const key of ['operation', 'namespace', 'target', 'operationId', 'exitCode', 'success', 'healthy', 'errorKind']) {
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
    if (value.length > maxItems) kept.push(`… ${value.length - maxItems} more`);
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
