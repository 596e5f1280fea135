// The operations both front ends run (rollout, restart, decommission, health, plan): targets, engine flags,
// the validated Task, and the runner argv that carries a Task into the Job. Shared by plugin and runner.
import { z } from 'zod';
import type { Argv } from 'yargs';
import {
  Dns1123Label,
  Dns1123Subdomain,
  MinAvailability,
  RelocationMode,
  RestartAllocation,
  SqlTransportMode,
  TargetKind,
  type SqlEndpointOverride,
} from '../schemas.js';
import { checkPushgatewayUrl } from '../metrics-push.js';
import { UsageError } from './exit.js';
import { parseDurationSeconds, validateNamespace } from './flag-values.js';

export const Operation = z.enum(['rollout', 'restart', 'decommission', 'health', 'plan']);
export type Operation = z.infer<typeof Operation>;

export const Target = z.object({ kind: TargetKind, name: Dns1123Subdomain });
export type Target = z.infer<typeof Target>;

const SecretKeyRef = z.object({ name: Dns1123Subdomain, key: z.string().min(1) });

/** How the engine talks SQL (--sql-* flags); absent = discovery decides, transport auto. */
export const SqlOptions = z.object({
  transport: SqlTransportMode.default('auto'),
  /** --sql-user with --sql-password-secret NAME[:KEY] (both or neither). */
  user: z.string().min(1).optional(),
  passwordSecret: SecretKeyRef.optional(),
  scheme: z.enum(['http', 'https']).optional(),
  /** --sql-ca-secret NAME[:KEY] (key default ca.crt). */
  caSecret: SecretKeyRef.optional(),
  insecure: z.boolean().default(false),
});
export type SqlOptions = z.infer<typeof SqlOptions>;

export const TaskOptions = z.object({
  /** cluster.graceful_stop.timeout, seconds (--decommission-timeout; --timeout is its deprecated alias). */
  decommissionTimeout: z.number().int().positive(),
  minAvailability: MinAvailability,
  /**
   * --relocation auto|primaries|full (issue 9 item 1): what a drain moves; auto (default of rollout, restart, plan)
   * decides per pod. Absent only when --min-availability NONE was asked for explicitly (then NONE, unchecked).
   */
  relocation: RelocationMode.optional(),
  allocation: RestartAllocation,
  /** Seconds to wait for a re-created pod to be Ready (--pod-ready-timeout). */
  podReadyTimeout: z.number().int().positive(),
  /** Seconds the health gate may wait for recovery (--health-timeout). */
  healthTimeout: z.number().int().positive(),
  /** Only when a --sql-* flag was given. */
  sql: SqlOptions.optional(),
  /** --skip-preflight (restart, decommission): no pre-flight health gate. Dangerous; only set when given. */
  skipPreflight: z.literal(true).optional(),
  /** --heartbeat: seconds between progress lines while a wait lasts. */
  heartbeatSeconds: z.number().int().positive().default(30),
  /** --no-stall-break: wait for the graceful-stop timeout as before (only set when given). */
  noStallBreak: z.literal(true).optional(),
  /** --stall-idle: seconds the drained node must show no job and no operation before the engine stops it. */
  stallIdleSeconds: z.number().int().positive().default(30),
  /** --pushgateway URL / --metrics-file PATH (rollout, restart, decommission): where the run's metrics go. */
  metrics: z.object({ pushgateway: z.string().url().optional(), metricsFile: z.string().min(1).optional() }).optional(),
});
export type TaskOptions = z.infer<typeof TaskOptions>;

export const DEFAULT_TASK_OPTIONS: TaskOptions = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES',
  allocation: 'primaries',
  podReadyTimeout: 600,
  healthTimeout: 900,
  heartbeatSeconds: 30,
  stallIdleSeconds: 30,
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

/** Resource kinds as kubectl users write them before `/` (also used by completion). */
export const KIND_ALIASES: Record<string, z.infer<typeof TargetKind>> = {
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
    throw new UsageError(
      `this command takes a ${allowed.join(' or ')}, not a ${kind} ("${text}")`,
      `Pass ${allowed[0]}/<name> or a bare ${allowed[0]} name`,
    );
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
      .option('decommission-timeout', {
        type: 'string',
        describe: 'How long CrateDB may take to drain a node (cluster.graceful_stop.timeout); was --timeout',
        default: '720s',
        group: 'Engine:',
      })
      // Deprecated: every kubectl user reads --timeout as "how long this command waits". Still accepted, with a
      // warning on stderr; hidden from help and completion.
      .option('timeout', {
        type: 'string',
        hidden: true,
        describe: 'Deprecated alias of --decommission-timeout',
        group: 'Engine:',
      })
      .option('relocation', {
        type: 'string',
        describe:
          operation === 'decommission'
            ? 'What the drain moves off the node: primaries|full (the node leaves for good, so its data must move) [default: primaries]'
            : 'What each drain moves: auto (per pod: nothing when every primary on the node has a STARTED replica elsewhere and the cluster is GREEN, else its primaries) | primaries | full [default: auto]',
        group: 'Engine:',
      })
      .option('min-availability', {
        type: 'string',
        describe:
          'Expert: cluster.graceful_stop.min_availability for every drain, unchecked: NONE|PRIMARIES|FULL (prefer --relocation)',
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
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission' || operation === 'plan') {
    out = out
      // Declared as `no-stall-break` itself: the plugin's parser has yargs' boolean negation off (as kubectl's
      // `--no-headers`), so a `stall-break` boolean would make `--no-stall-break` an unknown flag.
      .option('no-stall-break', {
        type: 'boolean',
        describe:
          "Wait for the graceful-stop timeout as before instead of stopping a drained node that stays idle (no job, no operation in sys.jobs/sys.operations for --stall-idle; CrateDB 6.4.3's active-request counter leaks on retried reads)",
        group: 'Engine:',
      })
      .option('stall-idle', {
        type: 'string',
        default: '30s',
        describe: 'How long a drained node must be idle before the stall break',
        group: 'Engine:',
      });
  }
  out = out.option('heartbeat', {
    type: 'string',
    default: '30s',
    describe: 'Progress line interval while a wait lasts (what it waits for, its state, time left)',
    group: 'Engine:',
  });
  if (operation === 'restart' || operation === 'decommission') {
    out = out.option('skip-preflight', {
      type: 'boolean',
      describe:
        "DANGEROUS: do not check the cluster's health before touching the pod. Without the check a pod of an unhealthy (e.g. RED) cluster is drained and stopped, which can make data unavailable",
      group: 'Engine:',
    });
  }
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission') {
    out = out
      .option('pushgateway', {
        type: 'string',
        describe:
          "Push the run's metrics to this Prometheus Pushgateway (http[s]://host:9091); env CRATE_DECOMMISSION_PUSHGATEWAY",
        group: 'Metrics:',
      })
      .option('metrics-file', {
        type: 'string',
        describe: "Write the run's metrics to this file (node-exporter textfile collector, *.prom)",
        group: 'Metrics:',
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
  return out
    .option('sql-transport', {
      type: 'string',
      describe: 'How SQL reaches CrateDB: auto (http when credentials are known, else exec) | http | exec',
      group: 'SQL:',
    })
    .option('sql-user', { type: 'string', describe: 'SQL user for HTTP (needs --sql-password-secret)', group: 'SQL:' })
    .option('sql-password-secret', {
      type: 'string',
      describe: "Secret holding the SQL user's password: NAME[:KEY] (key default password)",
      group: 'SQL:',
    })
    .option('sql-scheme', {
      type: 'string',
      describe: 'http|https (default: from the CrateDB container)',
      group: 'SQL:',
    })
    .option('sql-ca-secret', {
      type: 'string',
      describe: "Secret with CrateDB's CA certificate: NAME[:KEY] (key default ca.crt)",
      group: 'SQL:',
    })
    .option('sql-insecure', { type: 'boolean', describe: "Do not verify CrateDB's TLS certificate", group: 'SQL:' });
}

export interface RawOperationArgs {
  'decommission-timeout'?: unknown;
  timeout?: unknown;
  'min-availability'?: unknown;
  relocation?: unknown;
  allocation?: unknown;
  'pod-ready-timeout'?: unknown;
  'health-timeout'?: unknown;
  'skip-preflight'?: unknown;
  'operation-id'?: unknown;
  heartbeat?: unknown;
  'no-stall-break'?: unknown;
  /** Raw input that says stall-break false (e.g. {'stall-break': false} from code) means the same. */
  'stall-break'?: unknown;
  'stall-idle'?: unknown;
  'sql-transport'?: unknown;
  'sql-user'?: unknown;
  'sql-password-secret'?: unknown;
  'sql-scheme'?: unknown;
  'sql-ca-secret'?: unknown;
  'sql-insecure'?: unknown;
  pushgateway?: unknown;
  'metrics-file'?: unknown;
}

function secretRef(text: string, flag: string, defaultKey: string): { name: string; key: string } {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const key = colon === -1 ? defaultKey : text.slice(colon + 1);
  if (!Dns1123Subdomain.safeParse(name).success || key === '' || !/^[-._a-zA-Z0-9]+$/.test(key)) {
    throw new UsageError(
      `invalid ${flag} "${text}"`,
      `Use ${flag} NAME[:KEY] with the name of a Secret in the cluster's namespace`,
    );
  }
  return { name, key };
}

/** The --sql-* flags, or undefined when none was given. */
export function parseSqlOptions(raw: RawOperationArgs): SqlOptions | undefined {
  const given =
    (['sql-transport', 'sql-user', 'sql-password-secret', 'sql-scheme', 'sql-ca-secret'] as const).some(
      (k) => raw[k] !== undefined,
    ) || raw['sql-insecure'] === true;
  if (!given) return undefined;
  const out: SqlOptions = { transport: 'auto', insecure: raw['sql-insecure'] === true };
  if (raw['sql-transport'] !== undefined) {
    const v = single(raw['sql-transport'], '--sql-transport');
    const r = SqlTransportMode.safeParse(v);
    if (!r.success) throw new UsageError(`invalid --sql-transport "${v}"`, 'Use auto, http or exec');
    out.transport = r.data;
  }
  const user = raw['sql-user'] !== undefined ? single(raw['sql-user'], '--sql-user') : undefined;
  const secret =
    raw['sql-password-secret'] !== undefined ? single(raw['sql-password-secret'], '--sql-password-secret') : undefined;
  if ((user === undefined) !== (secret === undefined)) {
    throw new UsageError(
      '--sql-user and --sql-password-secret go together',
      'Give both: --sql-user NAME --sql-password-secret SECRET[:KEY]',
    );
  }
  if (user !== undefined && secret !== undefined) {
    if (user.trim() === '') throw new UsageError('--sql-user needs a value', 'Pass --sql-user <name>');
    out.user = user;
    out.passwordSecret = secretRef(secret, '--sql-password-secret', 'password');
  }
  if (raw['sql-scheme'] !== undefined) {
    const v = single(raw['sql-scheme'], '--sql-scheme');
    if (v !== 'http' && v !== 'https') throw new UsageError(`invalid --sql-scheme "${v}"`, 'Use http or https');
    out.scheme = v;
  }
  if (raw['sql-ca-secret'] !== undefined)
    out.caSecret = secretRef(single(raw['sql-ca-secret'], '--sql-ca-secret'), '--sql-ca-secret', 'ca.crt');
  return SqlOptions.parse(out);
}

/** The engine's endpoint override for the --sql-* flags (absent fields keep what discovery found). */
export function sqlEndpointOverride(sql: SqlOptions | undefined): SqlEndpointOverride | undefined {
  if (!sql) return undefined;
  const o: SqlEndpointOverride = { transport: sql.transport };
  if (sql.user && sql.passwordSecret)
    o.credentials = { username: sql.user, secretName: sql.passwordSecret.name, passwordKey: sql.passwordSecret.key };
  if (sql.scheme) o.scheme = sql.scheme;
  if (sql.caSecret) o.caSecret = { name: sql.caSecret.name, key: sql.caSecret.key };
  if (sql.insecure) o.insecureSkipTlsVerify = true;
  return o;
}

/** The --sql-* flags that carry SqlOptions into the runner. */
export function sqlArgsFor(sql: SqlOptions | undefined): string[] {
  if (!sql) return [];
  const args = ['--sql-transport', sql.transport];
  if (sql.user && sql.passwordSecret)
    args.push('--sql-user', sql.user, '--sql-password-secret', `${sql.passwordSecret.name}:${sql.passwordSecret.key}`);
  if (sql.scheme) args.push('--sql-scheme', sql.scheme);
  if (sql.caSecret) args.push('--sql-ca-secret', `${sql.caSecret.name}:${sql.caSecret.key}`);
  if (sql.insecure) args.push('--sql-insecure');
  return args;
}

/**
 * --relocation and --min-availability. --min-availability PRIMARIES (its default) says nothing; FULL means
 * --relocation full; NONE (explicit, expert) drains every pod with NONE unchecked. decommission takes a node out for
 * good: only primaries or full (auto would leave its data behind).
 */
function parseRelocation(raw: RawOperationArgs, opts: TaskOptions, operation: Operation | undefined): void {
  const min = opts.minAvailability;
  let given: RelocationMode | undefined;
  if (raw.relocation !== undefined) {
    const v = single(raw.relocation, '--relocation').toLowerCase();
    const r = RelocationMode.safeParse(v);
    if (!r.success)
      throw new UsageError(
        `invalid --relocation "${v}"`,
        operation === 'decommission' ? 'Use primaries or full' : 'Use auto, primaries or full',
      );
    given = r.data;
  }
  if (operation === 'decommission' && given === 'auto') {
    throw new UsageError(
      '--relocation auto does not apply to decommission: the node leaves for good, so its data must move',
      'Use --relocation primaries (the default) or full',
    );
  }
  if (min === 'NONE' && operation === 'decommission') {
    throw new UsageError(
      '--min-availability NONE does not apply to decommission: the node would leave with its data',
      'Use --relocation primaries (the default) or full',
    );
  }
  if (min !== 'PRIMARIES' && given !== undefined && !(min === 'FULL' && given === 'full')) {
    throw new UsageError(
      `--min-availability ${min} and --relocation ${given} disagree`,
      'Pass only --relocation (--min-availability is the expert form)',
    );
  }
  if (min === 'NONE') return; // expert, unchecked: no relocation decision
  if (min === 'FULL') {
    opts.relocation = 'full';
    return;
  }
  opts.relocation = given ?? (operation === 'decommission' ? 'primaries' : 'auto');
}

/** Validate the engine flags into TaskOptions (UsageError on bad input). */
export function parseTaskOptions(raw: RawOperationArgs, operation?: Operation): TaskOptions {
  const opts: TaskOptions = { ...DEFAULT_TASK_OPTIONS };
  if (raw.timeout !== undefined)
    opts.decommissionTimeout = parseDurationSeconds(single(raw.timeout, '--timeout'), '--timeout');
  const explicit = raw['decommission-timeout'];
  if (explicit !== undefined) {
    const v = parseDurationSeconds(single(explicit, '--decommission-timeout'), '--decommission-timeout');
    // yargs fills in the default, so a --timeout given alone wins over the default 720s.
    const isDefault = explicit === '720s';
    if (raw.timeout !== undefined && !isDefault && v !== opts.decommissionTimeout) {
      throw new UsageError(
        '--timeout and --decommission-timeout disagree',
        'Pass only --decommission-timeout (--timeout is its deprecated alias)',
      );
    }
    if (raw.timeout === undefined || !isDefault) opts.decommissionTimeout = v;
  }
  if (raw['pod-ready-timeout'] !== undefined) {
    opts.podReadyTimeout = parseDurationSeconds(
      single(raw['pod-ready-timeout'], '--pod-ready-timeout'),
      '--pod-ready-timeout',
    );
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
  if (operation !== 'health') parseRelocation(raw, opts, operation);
  if (raw.allocation !== undefined) {
    const v = single(raw.allocation, '--allocation');
    const r = RestartAllocation.safeParse(v);
    if (!r.success) throw new UsageError(`invalid --allocation "${v}"`, 'Use primaries (recommended) or new_primaries');
    opts.allocation = r.data;
  }
  const sql = parseSqlOptions(raw);
  if (sql) opts.sql = sql;
  if (raw['skip-preflight'] === true) opts.skipPreflight = true;
  if (raw.heartbeat !== undefined)
    opts.heartbeatSeconds = parseDurationSeconds(single(raw.heartbeat, '--heartbeat'), '--heartbeat');
  if (raw['no-stall-break'] === true || raw['stall-break'] === false) opts.noStallBreak = true;
  if (raw['stall-idle'] !== undefined)
    opts.stallIdleSeconds = parseDurationSeconds(single(raw['stall-idle'], '--stall-idle'), '--stall-idle');
  const metrics: NonNullable<TaskOptions['metrics']> = {};
  if (raw.pushgateway !== undefined) {
    const checked = checkPushgatewayUrl(single(raw.pushgateway, '--pushgateway'));
    if ('error' in checked)
      throw new UsageError(
        checked.error,
        'Pass the Pushgateway base URL, e.g. --pushgateway http://pushgateway.monitoring:9091',
      );
    metrics.pushgateway = checked.url;
  }
  if (raw['metrics-file'] !== undefined) {
    const v = single(raw['metrics-file'], '--metrics-file');
    if (v.trim() === '' || v.endsWith('/'))
      throw new UsageError(
        `invalid --metrics-file "${v}"`,
        'Pass a file path, e.g. --metrics-file /var/lib/node-exporter/textfile/crate_decommission.prom',
      );
    metrics.metricsFile = v;
  }
  if (metrics.pushgateway || metrics.metricsFile) opts.metrics = metrics;
  return opts;
}

/** Warnings for deprecated flags that were used (printed on stderr by the plugin, logged by the runner). */
export function deprecationWarnings(raw: RawOperationArgs): string[] {
  if (raw.timeout === undefined) return [];
  return [
    "--timeout is deprecated: it is CrateDB's graceful-stop timeout, now --decommission-timeout (--timeout will be removed)",
  ];
}

function single(v: unknown, flag: string): string {
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`, `Pass ${flag} once`);
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new UsageError(`${flag} needs a value`, `Pass ${flag} <value>`);
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
  const options = parseTaskOptions(input.raw, input.operation);
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
    args.push(
      '--decommission-timeout',
      `${o.decommissionTimeout}s`,
      '--min-availability',
      o.minAvailability,
      '--allocation',
      o.allocation,
    );
    if (o.relocation) args.push('--relocation', o.relocation);
  }
  if (task.operation !== 'health' && task.operation !== 'decommission')
    args.push('--pod-ready-timeout', `${o.podReadyTimeout}s`);
  args.push('--health-timeout', `${o.healthTimeout}s`);
  args.push(...sqlArgsFor(o.sql));
  if (o.skipPreflight && (task.operation === 'restart' || task.operation === 'decommission'))
    args.push('--skip-preflight');
  if (o.heartbeatSeconds !== DEFAULT_TASK_OPTIONS.heartbeatSeconds) args.push('--heartbeat', `${o.heartbeatSeconds}s`);
  if (task.operation !== 'health') {
    if (o.noStallBreak) args.push('--no-stall-break');
    if (o.stallIdleSeconds !== DEFAULT_TASK_OPTIONS.stallIdleSeconds)
      args.push('--stall-idle', `${o.stallIdleSeconds}s`);
  }
  if (task.operation === 'rollout' || task.operation === 'restart' || task.operation === 'decommission') {
    if (o.metrics?.pushgateway) args.push('--pushgateway', o.metrics.pushgateway);
    if (o.metrics?.metricsFile) args.push('--metrics-file', o.metrics.metricsFile);
  }
  if (task.dryRun && task.operation !== 'plan') args.push('--dry-run');
  if (task.operationId) args.push('--operation-id', task.operationId);
  return args;
}

/** What the Job's deadline budgets: how many pods, and each pod's delete grace period where dc_util drains it. */
export interface DeadlineBudget {
  pods: number;
  /**
   * The delete grace period (dc_util's effective timeout + 60 s) of each budgeted pod whose own spec makes it
   * kubernetes_managed; a pod not listed is budgeted as manual. Longest first when fewer than `pods` are known.
   */
  deleteGraceSeconds?: readonly number[];
}

/**
 * An upper bound of the run's duration in seconds (Job activeDeadlineSeconds): every pod may take every timeout
 * of its own strategy. A manual pod drains for at most the graceful-stop timeout and is then deleted with grace
 * 30 s; a kubernetes_managed pod is deleted with its delete grace period (dc_util's timeout + 60 s, 7230 s for
 * crate-operator's default), during which dc_util drains it. Then the re-created pod's Ready, the rejoin and the
 * health gate. A deadline shorter than a correct drain would kill the runner mid-operation.
 */
export function deadlineSecondsFor(task: Task, budget: DeadlineBudget | number): number {
  const o = task.options;
  const slack = 300;
  const { pods, deleteGraceSeconds = [] } = typeof budget === 'number' ? { pods: budget } : budget;
  const manualStop = o.decommissionTimeout + 30;
  const stopOf = (i: number): number => Math.max(manualStop, deleteGraceSeconds[i] ?? 0);
  const perPod = (i: number): number => stopOf(i) + o.podReadyTimeout + o.healthTimeout + 60;
  switch (task.operation) {
    case 'health':
    case 'plan':
      return o.healthTimeout + slack;
    case 'decommission':
      return stopOf(0) + o.podReadyTimeout + o.healthTimeout + slack;
    case 'restart':
      return perPod(0) + slack;
    case 'rollout': {
      let total = o.healthTimeout + slack;
      for (let i = 0; i < Math.max(1, pods); i++) total += perPod(i);
      return total;
    }
  }
}
