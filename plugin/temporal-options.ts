// Flags of the Temporal front ends (`worker`, `rollout --temporal`): where the Temporal server is, the namespace and
// the task queue, validated like every other flag (bad input: one line, exit 2, nothing contacted).
import type { Argv } from 'yargs';
import { UsageError } from '../shared/task/index.js';

const DEFAULT_TASK_QUEUE = 'crate-decommission';

export interface TemporalOptions {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function declareTemporalOptions<T>(y: Argv<T>, required: boolean) {
  return y
    .option('temporal-address', {
      type: 'string',
      describe: `Temporal frontend host:port${required ? '' : ' (with --temporal)'} (default: env TEMPORAL_ADDRESS, else localhost:7233)`,
      group: 'Temporal:',
    })
    .option('temporal-namespace', {
      type: 'string',
      describe: 'Temporal namespace (default: env TEMPORAL_NAMESPACE, else default)',
      group: 'Temporal:',
    })
    .option('task-queue', {
      type: 'string',
      describe: `Task queue of the workers (default: ${DEFAULT_TASK_QUEUE})`,
      group: 'Temporal:',
    });
}

function one(v: unknown, flag: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`, `Pass ${flag} once`);
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`${flag} needs a value`, `Pass ${flag} <value>`);
  return v.trim();
}

export function parseTemporalOptions(
  raw: Record<string, unknown>,
  env: Record<string, string | undefined>,
): TemporalOptions {
  const address = one(raw['temporal-address'], '--temporal-address') ?? (env.TEMPORAL_ADDRESS || 'localhost:7233');
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new UsageError(
      `invalid --temporal-address "${address}": must be host:port`,
      'Pass the Temporal frontend, e.g. --temporal-address temporal-frontend.temporal:7233',
    );
  }
  const namespace = one(raw['temporal-namespace'], '--temporal-namespace') ?? (env.TEMPORAL_NAMESPACE || 'default');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(namespace)) {
    throw new UsageError(
      `invalid --temporal-namespace "${namespace}"`,
      'Pass a Temporal namespace name (letters, digits, . _ -)',
    );
  }
  const taskQueue = one(raw['task-queue'], '--task-queue') ?? DEFAULT_TASK_QUEUE;
  if (taskQueue.length > 1000 || /\s/.test(taskQueue)) {
    throw new UsageError(`invalid --task-queue "${taskQueue}"`, 'Pass a task queue name without spaces');
  }
  return { address, namespace, taskQueue };
}

/** The Temporal SDK is an npm dependency with a native module: absent from the single binary. */
export function temporalUnavailable(err: unknown): Error {
  const code = (err as { code?: unknown })?.code;
  if (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package) '@temporalio/.test(String((err as Error)?.message))
  ) {
    return new UsageError(
      'the Temporal SDK (@temporalio/*) is not available in this build of the plugin (the single binary cannot carry its native core bridge)',
      'Run the Temporal commands from the npm install (npx kubectl-crate_decommission ...) or the worker image; see docs/temporal.md',
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The Temporal frontend did not answer (`rollout --temporal`, `worker`): exit 6 like an unreachable API server, one
 * line naming the server, nothing started.
 */
export function temporalUnreachableLine(
  address: string,
  namespace: string,
  err: unknown,
  nothing = 'no workflow was started',
): string {
  const text = errorText(err);
  const problem = /ECONNREFUSED|connection refused|tcp connect error/i.test(text)
    ? 'connection refused'
    : /ENOTFOUND|EAI_AGAIN|dns error|failed to lookup/i.test(text)
      ? 'host not found'
      : /deadline|timed? ?out/i.test(text)
        ? 'no answer in time'
        : (text.split('\n')[0] ?? 'the connection failed').trim();
  return `error: cannot reach the Temporal server ${address} (namespace ${namespace}): ${problem}. Check --temporal-address (or TEMPORAL_ADDRESS) and that the server is up (temporal operator cluster health --address ${address}); ${nothing}`;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const x = e as { code?: unknown; message?: unknown; details?: unknown; cause?: unknown };
    parts.push(String(x.code ?? ''), String(x.message ?? ''), String(x.details ?? ''));
    e = x.cause;
  }
  return parts.filter(Boolean).join(' ');
}
