// The operations both front ends run (rollout, restart, decommission, health, plan): targets, engine flags,
// the validated Task, and the runner argv that carries a Task into the Job. Shared by plugin and runner.
import { z } from 'zod';
import type { Argv } from 'yargs';
import { Dns1123Label, Dns1123Subdomain, MinAvailability, RestartAllocation, TargetKind } from '../shared/schemas.js';
import { UsageError } from './exit.js';
import { parseDurationSeconds, validateNamespace } from './options.js';

export const Operation = z.enum(['rollout', 'restart', 'decommission', 'health', 'plan']);
export type Operation = z.infer<typeof Operation>;

export const Target = z.object({ kind: TargetKind, name: Dns1123Subdomain });
export type Target = z.infer<typeof Target>;

export const TaskOptions = z.object({
  /** cluster.graceful_stop.timeout, seconds (--timeout). */
  decommissionTimeout: z.number().int().positive(),
  minAvailability: MinAvailability,
  allocation: RestartAllocation,
  /** Seconds to wait for a re-created pod to be Ready (--pod-ready-timeout). */
  podReadyTimeout: z.number().int().positive(),
  /** Seconds the health gate may wait for recovery (--health-timeout). */
  healthTimeout: z.number().int().positive(),
});
export type TaskOptions = z.infer<typeof TaskOptions>;

export const DEFAULT_TASK_OPTIONS: TaskOptions = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES',
  allocation: 'primaries',
  podReadyTimeout: 600,
  healthTimeout: 900,
};

export const Task = z.object({
  operation: Operation,
  namespace: Dns1123Label,
  target: Target,
  dryRun: z.boolean(),
  /** Identifies the run: Lease holder, Events, resume after a crashed runner (the Job name). */
  operationId: z.string().min(1).max(253).optional(),
  options: TaskOptions,
});
export type Task = z.infer<typeof Task>;

const KIND_ALIASES: Record<string, z.infer<typeof TargetKind>> = {
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  'statefulset.apps': 'statefulset',
  'statefulsets.apps': 'statefulset',
  cratedb: 'cratedb',
  cratedbs: 'cratedb',
  'cratedb.cloud.crate.io': 'cratedb',
  'cratedbs.cloud.crate.io': 'cratedb',
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
};

/**
 * Parse a target: `statefulset/<name>`, `sts/<name>`, `cratedb/<name>`, `pod/<name>`, or a bare name
 * (of kind `bareKind`: a StatefulSet for cluster commands, a pod for pod commands).
 */
export function parseTarget(text: string, bareKind: Target['kind'], allowed?: Target['kind'][]): Target {
  const slash = text.indexOf('/');
  let kind: Target['kind'];
  let name: string;
  if (slash === -1) {
    kind = bareKind;
    name = text;
  } else {
    const k = KIND_ALIASES[text.slice(0, slash).toLowerCase()];
    if (!k) {
      throw new UsageError(
        `unknown target kind "${text.slice(0, slash)}" in "${text}"`,
        'Use statefulset/<name>, sts/<name>, cratedb/<name> or pod/<name>',
      );
    }
    kind = k;
    name = text.slice(slash + 1);
  }
  if (allowed && !allowed.includes(kind)) {
    throw new UsageError(`this command takes a ${allowed.join(' or ')}, not a ${kind} ("${text}")`, `Pass ${allowed[0]}/<name> or a bare ${allowed[0]} name`);
  }
  if (!Dns1123Subdomain.safeParse(name).success) {
    const what = kind === 'pod' ? 'pod' : kind === 'cratedb' ? 'CrateDB' : 'StatefulSet';
    throw new UsageError(
      `invalid ${what} name "${name}": must be a lowercase DNS-1123 name (a-z, 0-9, '-', '.')`,
      `Pass the ${what} name as kubectl get shows it`,
    );
  }
  return { kind, name };
}

/** The engine flags of the operations, declared once for the plugin and the runner. */
export function declareOperationOptions<T>(y: Argv<T>, operation: Operation) {
  let out = y.option('operation-id', {
    type: 'string',
    hidden: true,
    describe: 'Identifies the run; a re-run with the same id resumes it (set by the plugin to the Job name)',
  });
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission' || operation === 'plan') {
    out = out
      .option('timeout', {
        type: 'string',
        describe: 'Decommission timeout (cluster.graceful_stop.timeout), Go duration',
        default: '720s',
        group: 'Engine:',
      })
      .option('min-availability', {
        type: 'string',
        describe: 'Data that must stay available while a node drains: NONE|PRIMARIES|FULL',
        default: 'PRIMARIES',
        group: 'Engine:',
      })
      .option('allocation', {
        type: 'string',
        describe: 'cluster.routing.allocation.enable while a node restarts: primaries|new_primaries',
        default: 'primaries',
        group: 'Engine:',
      });
  }
  if (operation !== 'health' && operation !== 'decommission') {
    out = out.option('pod-ready-timeout', {
      type: 'string',
      describe: 'How long a re-created pod may take to become Ready',
      default: '600s',
      group: 'Engine:',
    });
  }
  out = out.option('health-timeout', {
    type: 'string',
    describe: 'How long the health gate waits for the cluster to recover',
    default: '900s',
    group: 'Engine:',
  });
  return out;
}

export interface RawOperationArgs {
  timeout?: unknown;
  'min-availability'?: unknown;
  allocation?: unknown;
  'pod-ready-timeout'?: unknown;
  'health-timeout'?: unknown;
  'operation-id'?: unknown;
}

/** Validate the engine flags into TaskOptions (UsageError on bad input). */
export function parseTaskOptions(raw: RawOperationArgs): TaskOptions {
  const opts: TaskOptions = { ...DEFAULT_TASK_OPTIONS };
  if (raw.timeout !== undefined) opts.decommissionTimeout = parseDurationSeconds(single(raw.timeout, '--timeout'), '--timeout');
  if (raw['pod-ready-timeout'] !== undefined) {
    opts.podReadyTimeout = parseDurationSeconds(single(raw['pod-ready-timeout'], '--pod-ready-timeout'), '--pod-ready-timeout');
  }
  if (raw['health-timeout'] !== undefined) {
    opts.healthTimeout = parseDurationSeconds(single(raw['health-timeout'], '--health-timeout'), '--health-timeout');
  }
  if (raw['min-availability'] !== undefined) {
    const v = single(raw['min-availability'], '--min-availability');
    const r = MinAvailability.safeParse(v);
    if (!r.success) throw new UsageError(`invalid --min-availability "${v}"`, 'Use NONE, PRIMARIES or FULL');
    opts.minAvailability = r.data;
  }
  if (raw.allocation !== undefined) {
    const v = single(raw.allocation, '--allocation');
    const r = RestartAllocation.safeParse(v);
    if (!r.success) throw new UsageError(`invalid --allocation "${v}"`, 'Use primaries (recommended) or new_primaries');
    opts.allocation = r.data;
  }
  return opts;
}

function single(v: unknown, flag: string): string {
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`, `Pass ${flag} once`);
  if (typeof v !== 'string' && typeof v !== 'number') throw new UsageError(`${flag} needs a value`, `Pass ${flag} <value>`);
  return String(v);
}

/** Build a validated Task from the parsed values of one operation command. */
export function buildTask(input: {
  operation: Operation;
  namespace: string;
  target: Target;
  dryRun: boolean;
  raw: RawOperationArgs;
}): Task {
  validateNamespace(input.namespace);
  const options = parseTaskOptions(input.raw);
  const task: Task = {
    operation: input.operation,
    namespace: input.namespace,
    target: input.target,
    dryRun: input.dryRun || input.operation === 'plan',
    options,
  };
  const id = input.raw['operation-id'];
  if (id !== undefined) {
    const v = single(id, '--operation-id');
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v) || v.length > 253) {
      throw new UsageError(`invalid --operation-id "${v}"`, 'Use a DNS-1123 name such as the Job name');
    }
    task.operationId = v;
  }
  return Task.parse(task);
}

/** The runner argv carrying a Task into the Job (parsed back by the runner with the same declarations). */
export function runnerArgsFor(task: Task): string[] {
  const o = task.options;
  const args = [task.operation, `${task.target.kind}/${task.target.name}`, '--namespace', task.namespace];
  if (task.operation !== 'health') {
    args.push('--timeout', `${o.decommissionTimeout}s`, '--min-availability', o.minAvailability, '--allocation', o.allocation);
  }
  if (task.operation !== 'health' && task.operation !== 'decommission') args.push('--pod-ready-timeout', `${o.podReadyTimeout}s`);
  args.push('--health-timeout', `${o.healthTimeout}s`);
  if (task.dryRun && task.operation !== 'plan') args.push('--dry-run');
  if (task.operationId) args.push('--operation-id', task.operationId);
  return args;
}

/** An upper bound of the run's duration in seconds (Job activeDeadlineSeconds): every pod may take every timeout. */
export function deadlineSecondsFor(task: Task, pods: number): number {
  const o = task.options;
  const slack = 300;
  switch (task.operation) {
    case 'health':
    case 'plan':
      return o.healthTimeout + slack;
    case 'decommission':
      return o.decommissionTimeout + o.healthTimeout + slack;
    case 'restart':
      return o.decommissionTimeout + o.podReadyTimeout + o.healthTimeout + slack;
    case 'rollout':
      return Math.max(1, pods) * (o.decommissionTimeout + o.podReadyTimeout + o.healthTimeout + 60) + o.healthTimeout + slack;
  }
}
