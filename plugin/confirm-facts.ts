// What the confirmation prompt of rollout/restart/decommission names (issue 13): the kubeconfig context, cluster
// and API server (from the kubeconfig, offline: loading it contacts nothing), the namespace resolved as the run will
// resolve it, and the pods in the order they will be restarted. The order comes from the same read-only analysis
// `plan` runs (discovery + CrateDB's view: unready first, data-only, master-eligible, the elected master last),
// made after the local validation and before anything changes. When that analysis cannot run from here (no exec
// permission, a pod that does not answer), the prompt says so and names no order rather than a guessed one.
import type { CliContext, Connection } from './io.js';
import { ExitCode, executeTask, type Task } from '../shared/task/index.js';

/** How long the read-only analysis before the prompt may take before the prompt goes on without the order. */
const CONFIRM_ANALYSIS_MS = 20_000;

export interface ConfirmFacts {
  context: string;
  cluster: string;
  server: string;
  namespace: string;
  /** The pods in restart order, or null when the analysis could not tell (see `note`). */
  pods: string[] | null;
  note?: string;
}

/** The facts of the prompt; `stop` when the analysis showed the run cannot go on (the API server unreachable). */
export async function confirmFacts(
  ctx: CliContext,
  conn: Connection,
  task: Task,
): Promise<ConfirmFacts | { stop: { exitCode: number; error: string } }> {
  const base = {
    context: conn.target?.context || '?',
    cluster: conn.target?.cluster || '?',
    server: conn.target?.server || '?',
    namespace: task.namespace,
  };
  if (task.operation !== 'rollout') return { ...base, pods: [task.target.name] };
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(CONFIRM_ANALYSIS_MS)]);
  try {
    const engine = await ctx.loadEngine();
    const log = engine.createLogger({ format: 'json', level: 'error', write: () => {} });
    const deps = await conn.engineDeps(log, signal, { readOnly: true });
    const outcome = await executeTask(engine, deps, { ...task, operation: 'plan', dryRun: true });
    if (outcome.kind !== 'plan') {
      const error = outcome.result.error;
      if (outcome.exitCode === ExitCode.unreachable)
        return { stop: { exitCode: outcome.exitCode, error: String(error ?? 'cannot reach the cluster') } };
      return {
        ...base,
        pods: null,
        note: `the runner decides the order; it could not be read from here: ${String(error ?? 'no plan')}`,
      };
    }
    const order = outcome.result.order;
    return {
      ...base,
      pods: order.map(
        (p) =>
          `${p.podName}${p.alreadyDone ? ' (done)' : /elected master/.test(p.reason ?? '') ? ' (elected master)' : ''}`,
      ),
    };
  } catch (err) {
    const why =
      signal.aborted && !ctx.signal.aborted
        ? `no answer within ${CONFIRM_ANALYSIS_MS / 1000}s`
        : err instanceof Error
          ? err.message
          : String(err);
    return { ...base, pods: null, note: `the runner decides the order; it could not be read from here: ${why}` };
  }
}

/** The lines above the question: where, and which pods in which order. */
export function describeFacts(f: ConfirmFacts): string {
  const lines = [`context ${f.context}, cluster ${f.cluster} (${f.server}), namespace ${f.namespace}`];
  if (f.pods && f.pods.length > 1)
    lines.push(`pods in this order: ${f.pods.map((p, i) => `${i + 1}. ${p}`).join('  ')}`);
  else if (f.pods && f.pods.length === 1) lines.push(`pod: ${f.pods[0]}`);
  else lines.push(`pods: ${f.note ?? 'unknown'}`);
  return lines.join('\n');
}
