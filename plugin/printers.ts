// Shared printers: one value, printed as -o text|json|yaml (text through a per-command formatter).
import type { OutputFormat } from './options.js';
import type { Colors, Writer } from './io.js';
import { jsonPath, toPlainYaml } from './output.js';
import { formatBytes, UsageError, type ResultView } from '../shared/task/index.js';

/** How a value is printed besides its format: the jsonpath template, the table flavour, the names for `-o name`. */
export interface PrintOptions {
  jsonpath?: string | undefined;
  /** `-o name`: `kind/name` lines (only commands with a table pass this). */
  names?: (v: unknown) => string[];
  /** The text for `-o wide` (default: the text formatter). */
  wide?: (v: unknown) => string;
  /** The document -o json|yaml|jsonpath print (default: the value itself), e.g. a plan as a kubectl `List`. */
  document?: (v: unknown) => unknown;
}

export function printValue(
  out: Writer,
  value: unknown,
  format: OutputFormat,
  text: (v: unknown) => string,
  opts: PrintOptions = {},
): void {
  switch (format) {
    case 'json':
      out.write(`${JSON.stringify(opts.document ? opts.document(value) : value, null, 2)}\n`);
      return;
    case 'yaml':
      out.write(toPlainYaml(opts.document ? opts.document(value) : value));
      return;
    case 'jsonpath': {
      if (opts.jsonpath === undefined)
        throw new UsageError('-o jsonpath needs a template', "Use e.g. -o jsonpath='{.success}'");
      const t = jsonPath(opts.jsonpath, opts.document ? opts.document(value) : value);
      out.write(t.endsWith('\n') ? t : `${t}\n`);
      return;
    }
    case 'name': {
      if (!opts.names) throw new UsageError('-o name is not available here', 'Use -o text, json or yaml');
      const names = opts.names(value);
      if (names.length > 0) out.write(`${names.join('\n')}\n`);
      return;
    }
    case 'wide':
    case 'text': {
      const t = (format === 'wide' && opts.wide ? opts.wide : text)(value);
      if (t.length > 0) out.write(t.endsWith('\n') ? t : `${t}\n`);
      return;
    }
  }
}

/** Table flags of the commands that have one: --no-headers. */
export interface TableOptions {
  noHeaders?: boolean;
}

/** A fixed-width table (kubectl get style); --no-headers drops the header row. */
export function table(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const widths = headers.map((h, i) =>
    Math.max(opts.noHeaders ? 0 : h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [...(opts.noHeaders ? [] : [line(headers)]), ...rows.map(line)].join('\n');
}

function str(v: unknown, fallback = '-'): string {
  if (v === null || v === undefined || v === '') return fallback;
  return String(v);
}

function seconds(v: unknown): string {
  return typeof v === 'number' ? `${Math.round(v)}s` : '-';
}

/** Text for a Task's outcome: rollout, restart, decommission, health, plan, or a failure record, by its kind. */
export function formatResult(
  outcome: ResultView,
  c: Colors,
  t: TableOptions & { wide?: boolean; omitError?: boolean } = {},
): string {
  const r = outcome.result;
  const ok = r.success === true;
  const mark = ok ? c.green('✓') : c.red('✗');
  let lines: string[];
  switch (outcome.kind) {
    case 'plan':
      return formatPlan(r, c, t);
    case 'health':
      return formatHealth(r, c, t);
    case 'rollout':
      lines = formatRollout(r, mark, c);
      break;
    case 'restart':
    case 'decommission':
      lines = formatPodOperation(outcome.kind, r, mark, c);
      break;
    case 'failed':
      lines = [`${mark} ${ok ? 'done' : 'failed'}`];
      break;
  }
  if (!ok && r.error && !t.omitError) lines.push(`${c.red('error:')} ${str(r.error)}`);
  return lines.join('\n');
}

function formatRollout(r: Record<string, unknown>, mark: string, c: Colors): string[] {
  const ok = r.success === true;
  // A termination message cut to 4 KiB ends with {omitted: n} instead of the last pods.
  const all = Array.isArray(r.pods) ? (r.pods as Array<Record<string, unknown>>) : [];
  const pods = all.filter((p) => p && typeof p === 'object' && typeof p.podName === 'string');
  const omitted = all.reduce((n, p) => n + (p && typeof p.omitted === 'number' ? p.omitted : 0), 0);
  const lines = [
    `${mark} rollout of ${r.namespace}/${r.cluster} ${ok ? 'completed' : 'failed'}${r.dryRun ? ' (dry run)' : ''} in ${seconds(r.duration)}`,
  ];
  if (pods.length > 0) {
    lines.push(
      table(
        ['POD', 'RESULT', 'STRATEGY', 'RELOCATION', 'DURATION', 'ERROR'],
        pods.map((p) => [
          str(p.podName),
          p.skipped ? 'skipped' : p.success ? 'restarted' : 'failed',
          str(p.strategyUsed),
          str((p.relocation as { decision?: unknown } | undefined)?.decision),
          seconds(p.duration),
          str(p.error, ''),
        ]),
      ),
    );
  }
  if (omitted > 0) lines.push(`(${omitted} more pod(s) not shown: see the runner's log for the full result)`);
  if (r.allocationReset === false)
    lines.push(c.yellow('warning: cluster.routing.allocation.enable may not have been reset'));
  return lines;
}

function formatPodOperation(
  verb: 'restart' | 'decommission',
  r: Record<string, unknown>,
  mark: string,
  c: Colors,
): string[] {
  const ok = r.success === true;
  const lines = [
    `${mark} ${verb} of pod ${r.namespace}/${r.podName} ${ok ? (r.skipped ? 'skipped (already done by this operation)' : 'completed') : 'failed'}` +
      `${r.dryRun ? ' (dry run)' : ''} using ${str(r.strategyUsed)} strategy in ${seconds(r.duration)}`,
  ];
  const reloc = r.relocation as { summary?: unknown } | undefined;
  if (reloc && typeof reloc.summary === 'string') lines.push(`Relocation: ${reloc.summary}`);
  // The single-pod pre-flight: shown when it decided (a refusal, a degraded go-ahead) or in a dry run.
  const preflight = r.preflight && typeof r.preflight === 'object' ? (r.preflight as Record<string, unknown>) : null;
  if (preflight && (r.dryRun || r.errorKind === 'refused' || preflight.degraded))
    lines.push(`Pre-flight: ${formatHealth(preflight, c)}`);
  return lines;
}

/**
 * The document `plan -o json|yaml|jsonpath` prints: ALWAYS a kubectl `List`, whatever the number of StatefulSets
 * (as `plan -f` does): one `RolloutPlan` item per cluster planned (a target is one cluster, so one item), the
 * engine's plan unchanged inside (`.items[0].order`, `.items[0].statefulSets`). Any other outcome (health, a
 * rollout, a failure record) is printed as it is.
 */
export function planDocument(outcome: ResultView): unknown {
  if (outcome.kind !== 'plan') return outcome.result;
  return { apiVersion: 'v1', kind: 'List', metadata: {}, items: [{ kind: 'RolloutPlan', ...outcome.result }] };
}

/** `-o name` of an outcome: a plan's pods in order, a health check's failed checks. */
export function resultNames(outcome: ResultView): string[] {
  const r = outcome.result;
  switch (outcome.kind) {
    case 'plan':
      return (Array.isArray(r.order) ? (r.order as Array<Record<string, unknown>>) : []).map(
        (p) => `pod/${str(p.podName)}`,
      );
    case 'health':
      return (Array.isArray(r.failedChecks) ? (r.failedChecks as unknown[]) : []).map((n) => `check/${String(n)}`);
    default:
      return [];
  }
}

function formatHealth(
  r: Record<string, unknown>,
  c: Colors,
  t: TableOptions & { wide?: boolean; omitError?: boolean } = {},
): string {
  const degraded = r.degraded && typeof r.degraded === 'object' ? (r.degraded as Record<string, unknown>) : null;
  const state = r.healthy ? c.green('✓ healthy') : degraded ? c.yellow('! degraded') : c.red('✗ unhealthy');
  const lines = [
    `${state}: ${str(r.healthStatus)}, ${str(r.nodeCount)}/${str(r.expectedNodes)} nodes, master ${str(r.masterNode)}`,
  ];
  if (degraded) lines.push(c.yellow(`preflight: ${str(degraded.message)}`));
  const checks = Array.isArray(r.checks) ? (r.checks as Array<Record<string, unknown>>) : [];
  if (checks.length > 0) {
    lines.push(
      table(
        ['CHECK', 'OK', 'MESSAGE'],
        checks.map((k) => [str(k.name), k.ok ? 'yes' : c.red('no'), str(k.message, '')]),
        t,
      ),
    );
  }
  if (t.wide) {
    lines.push(
      `relocating shards: ${str(r.relocatingShards)}, initializing shards: ${str(r.initializingShards)}, good readings: ${str(r.goodReadings)}, checked at ${str(r.checkedAt)}`,
    );
  }
  if (r.error && !t.omitError) lines.push(`${c.red('error:')} ${str(r.error)}`);
  return lines.join('\n');
}

function formatPlan(r: Record<string, unknown>, c: Colors, t: TableOptions & { wide?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Plan for ${str(r.namespace)}/${str(r.cluster)} (read-only; nothing was changed)`);
  const sets = Array.isArray(r.statefulSets) ? (r.statefulSets as Array<Record<string, unknown>>) : [];
  for (const s of sets) lines.push(formatDetection(s, c));
  const order = r.order as Array<Record<string, unknown>>;
  lines.push('Order:');
  const relocated = order.some((p) => p.relocation && typeof p.relocation === 'object');
  const headers = [
    '#',
    'POD',
    ...(t.wide ? ['STATEFULSET'] : []),
    'NODE',
    'STRATEGY',
    ...(relocated ? ['RELOCATION', 'COPIES'] : []),
    'GRACE',
    'TIMEOUT',
    'REASON',
  ];
  lines.push(
    table(
      headers,
      order.map((p, i) => [
        String(i + 1),
        str(p.podName) + (p.alreadyDone ? ' (done)' : ''),
        ...(t.wide ? [str(p.statefulSetName)] : []),
        str(p.nodeName),
        str(p.strategy),
        ...(relocated ? relocationCells(p.relocation) : []),
        seconds(p.deleteGracePeriodSeconds),
        seconds(p.timeoutSeconds),
        str(p.reason, ''),
      ]),
      t,
    ),
  );
  for (const p of order) {
    const v = p.relocation as { decision?: unknown; blockers?: unknown } | undefined;
    if (v && Array.isArray(v.blockers) && v.blockers.length > 0)
      lines.push(`Relocation of ${str(p.podName)}: ${str(v.decision)} because ${v.blockers.map(String).join('; ')}`);
  }
  if (relocated)
    lines.push(
      'Relocation is decided again right before each pod (--relocation); COPIES: bytes copied off the node by file (about as much comes back after it returns).',
    );
  if (typeof r.totalTimeoutSeconds === 'number') lines.push(`Total timeout: ${seconds(r.totalTimeoutSeconds)}`);
  if (r.preflight && typeof r.preflight === 'object')
    lines.push(`Pre-flight: ${formatHealth(r.preflight as Record<string, unknown>, c)}`);
  const decision =
    r.preflightDecision && typeof r.preflightDecision === 'object'
      ? (r.preflightDecision as Record<string, unknown>)
      : null;
  if (decision && decision.outcome !== 'passed') {
    const text = `Pre-flight decision: ${str(decision.outcome)}${decision.outcome === 'degraded' ? '' : ` - ${str(decision.message)}`}`;
    lines.push(
      decision.outcome === 'degraded'
        ? c.yellow(`${text} (the pods listed first restart before the full health gate must pass)`)
        : c.red(text),
    );
  }
  return lines.join('\n');
}

/** RELOCATION and COPIES of a planned pod: the decision, and the bytes it would copy (with what primaries would). */
function relocationCells(v: unknown): string[] {
  if (!v || typeof v !== 'object') return ['-', '-'];
  const r = v as { decision?: unknown; bytes?: Record<string, unknown> };
  const d = str(r.decision);
  const b = (k: string) => formatBytes(typeof r.bytes?.[k] === 'number' ? (r.bytes[k] as number) : 0);
  return [d, d === 'none' ? `0 B (primaries: ${b('primaries')})` : b(d)];
}

/** One StatefulSet's strategy detection (plan and plan -f). */
export function formatDetection(d: Record<string, unknown>, c: Colors): string {
  const lines = [
    `${c.bold(`StatefulSet ${str(d.namespace ? `${String(d.namespace)}/${str(d.name)}` : d.name)}`)}: strategy ${c.bold(str(d.strategy))}`,
    `  preStop hook: ${d.hasPrestopHook ? 'yes' : 'no'}, dc_util: ${d.hasDcUtil ? 'yes' : 'no'}` +
      `${d.dcUtilSkips ? ' (will skip)' : ''}, dc_util timeout: ${seconds(d.dcUtilTimeoutSeconds)}` +
      `, delete grace period: ${seconds(d.deleteGracePeriodSeconds)}, min availability: ${str(d.minAvailability)}`,
  ];
  if (d.hasDcUtil)
    lines.push(
      `  dc_util -proto: ${str(d.dcUtilProto, 'unknown')}, CrateDB serves: ${str(d.servedScheme, 'unknown (decided at discovery)')}`,
    );
  const reasons = Array.isArray(d.reasons) ? (d.reasons as unknown[]) : [];
  // The detection rule that wrote each reason (its function name, as docs/strategy.md's rule table names it).
  const rules =
    Array.isArray(d.reasonRules) && d.reasonRules.length === reasons.length ? (d.reasonRules as unknown[]) : null;
  reasons.forEach((reason, i) => {
    const rule = rules ? String(rules[i]) : '';
    lines.push(`  - ${String(reason)}${rule ? c.dim(` (rule ${rule})`) : ''}`);
  });
  return lines.join('\n');
}

/**
 * What a changing command did (`rbac install`, `schedule create`, `jobs cancel`, ...) for -o json|yaml|jsonpath:
 * with `objects`, the objects as written (a kubectl `List`, as `kubectl apply -o json` prints them); else a `List`
 * of `{object, namespace, action}` from the kubectl-style lines ("cronjob.batch/x deleted").
 */
export function printActions(
  env: { ctx: { stdout: Writer } },
  g: { output: OutputFormat; jsonpath?: string | undefined },
  lines: string[],
  objects?: unknown[],
  namespace?: string,
): void {
  const items =
    objects ??
    lines.map((l) => {
      const [object = '', ...rest] = l.split(' ');
      return { object, ...(namespace ? { namespace } : {}), action: rest.join(' ') };
    });
  printValue(env.ctx.stdout, { apiVersion: 'v1', kind: 'List', items }, g.output, () => lines.join('\n'), {
    jsonpath: g.jsonpath,
  });
}
