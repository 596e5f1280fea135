// The engine flags' values validated into TaskOptions and a Task (bad input -> UsageError, exit 2), and the engine's
// SQL endpoint override they make.
import {
  Dns1123Subdomain,
  MinAvailability,
  RelocationMode,
  RestartAllocation,
  SqlTransportMode,
  type SqlEndpointOverride,
} from '../schemas.js';
import { checkPushgatewayUrl } from '../metrics-push.js';
import { UsageError } from './exit.js';
import { parseDurationSeconds, validateNamespace } from './flag-values.js';
import type { RawOperationArgs } from './operation-flags.js';
import { DEFAULT_TASK_OPTIONS, SqlOptions, Task, type Operation, type Target, type TaskOptions } from './task.js';

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
function parseSqlOptions(raw: RawOperationArgs): SqlOptions | undefined {
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
