// Prometheus metrics of one run (rollout, restart, decommission), derived from what the engine already emits:
// its log lines (the scope fields pod/step/strategy), its Kubernetes Events, the pod states its watches deliver,
// and its result. Nothing in the engine calls this module: metrics-wiring.ts taps the engine's ports.
// Own prom-client Registry (never the global one). Every label value is bounded: enums, Kubernetes names.
// Counters and histograms are cumulative across runs: a run starts from what the previous runs pushed
// (seed()), so rate()/increase() work on what a Pushgateway or a textfile keeps. See docs/observability.md.
import type { V1Pod } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventInput, LogFields, LogLevel } from './ports.js';
import type { CrateDBCluster } from './schemas.js';

export const METRIC_PREFIX = 'crate_decommission_';

export const METRIC_OPERATIONS = ['rollout', 'restart', 'decommission'] as const;
export type MetricOperation = (typeof METRIC_OPERATIONS)[number];
const METRIC_RESULTS = ['success', 'failure'] as const;
export const POD_RESULTS = ['success', 'failure', 'skipped'] as const;
/** The exit-code kinds (README "Exit codes"); `none` on success, `terminated` when SIGTERM stopped the run. */
export const ERROR_KINDS = ['none', 'failed', 'bad_input', 'refused', 'timeout', 'locked', 'terminated'] as const;
export const STRATEGIES = ['kubernetes_managed', 'manual', 'unknown'] as const;
/** Phases of one pod: drain, exit, re-create, ready, rejoin, health gate. */
export const PHASES = ['drain', 'exit', 'recreate', 'ready', 'rejoin', 'health_gate'] as const;
export type Phase = (typeof PHASES)[number];
/** The health gate's named checks (shared/health.ts HealthCheckName). */
export const HEALTH_CHECKS = [
  'sql_reachable',
  'all_tables_green',
  'node_count_matches_replicas',
  'master_elected',
  'no_relocating_shards',
  'no_initializing_shards',
  'no_snapshot_running',
] as const;

/** Seconds; a pod phase takes from milliseconds (re-create) to hours (a drain of a big node). */
const POD_PHASE_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
/** Seconds; a whole operation: one pod (minutes) to a big cluster (many hours). */
const OPERATION_BUCKETS = [5, 30, 60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 57600, 86400];

/** Every metric: name -> type, labels, help (the docs table is checked against this). */
export const METRICS = {
  operations_total: {
    type: 'counter',
    labels: ['namespace', 'cluster', 'operation', 'result', 'error_kind'],
    help: 'Operations run (rollout, restart, decommission; dry runs not counted), by result and exit-code kind.',
  },
  pod_restarts_total: {
    type: 'counter',
    labels: ['namespace', 'cluster', 'strategy', 'result'],
    help: 'Pods restarted by a rollout or restart, by decommission strategy and result (skipped: already done by the resumed operation).',
  },
  pod_duration_seconds: {
    type: 'histogram',
    labels: ['namespace', 'cluster', 'strategy', 'phase'],
    help: 'Duration of each completed phase of a pod: drain, exit, recreate, ready, rejoin, health_gate.',
  },
  operation_duration_seconds: {
    type: 'histogram',
    labels: ['namespace', 'cluster', 'operation'],
    help: 'Duration of a whole operation, whatever its result.',
  },
  health_gate_failures_total: {
    type: 'counter',
    labels: ['namespace', 'cluster', 'check'],
    help: 'Failed checks of health gates that refused or blocked (pre-flight refusals and gates that timed out), by check.',
  },
  last_success_timestamp_seconds: {
    type: 'gauge',
    labels: ['namespace', 'cluster', 'operation'],
    help: 'Unix time of the end of the last successful operation.',
  },
  last_run_timestamp_seconds: {
    type: 'gauge',
    labels: ['namespace', 'cluster', 'operation'],
    help: 'Unix time of the end of the last operation, successful or not.',
  },
  allocation_restricted: {
    type: 'gauge',
    labels: ['namespace', 'cluster'],
    help: '1 while this tool holds cluster.routing.allocation.enable restricted (manual strategy), else 0.',
  },
} as const;
type MetricName = keyof typeof METRICS;

const ALLOWED: Record<string, readonly string[]> = {
  operation: METRIC_OPERATIONS,
  result: [...new Set([...METRIC_RESULTS, ...POD_RESULTS])],
  error_kind: ERROR_KINDS,
  strategy: STRATEGIES,
  phase: PHASES,
  check: HEALTH_CHECKS,
};
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * A label value as exported: an enum label keeps only its known values (anything else is `other`), a namespace or
 * cluster only a Kubernetes name (else `invalid`). So no pod UID, error text or secret can ever become a label.
 */
export function boundedLabel(label: string, value: unknown): string {
  const v = typeof value === 'string' ? value : '';
  const allowed = ALLOWED[label];
  if (allowed) return allowed.includes(v) ? v : 'other';
  if (label === 'namespace' || label === 'cluster') return K8S_NAME.test(v) ? v : 'invalid';
  return 'other';
}

/** The exit-code kind of a result: engine kinds map onto the exit codes (transient -> failed). */
export function errorKindLabel(
  errorKind: unknown,
  success: boolean,
  terminated: boolean,
): (typeof ERROR_KINDS)[number] {
  if (success) return 'none';
  if (terminated) return 'terminated';
  if (errorKind === 'transient') return 'failed';
  return (ERROR_KINDS as readonly string[]).includes(String(errorKind)) &&
    errorKind !== 'none' &&
    errorKind !== 'terminated'
    ? (errorKind as (typeof ERROR_KINDS)[number])
    : 'failed';
}

// ---------------------------------------------------------------- exposition text (seed and output)

export interface Sample {
  /** Full sample name, e.g. crate_decommission_pod_duration_seconds_bucket. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function parseNumber(v: string): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** Parse Prometheus text exposition into samples (comments and unparsable lines are skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const m = line.exec(l);
    if (!m) continue;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    label.lastIndex = 0;
    let lm: RegExpExecArray | null;
    let ok = true;
    let pos = 0;
    while (pos < body.length && (lm = label.exec(body)) !== null) {
      labels[lm[1]!] = unescapeLabel(lm[2]!);
      pos = label.lastIndex;
    }
    if (pos < body.trim().length) ok = false;
    const value = parseNumber(m[4]!);
    if (ok && !Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

function sampleKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

function familyOf(sampleName: string): MetricName | null {
  if (!sampleName.startsWith(METRIC_PREFIX)) return null;
  const rest = sampleName.slice(METRIC_PREFIX.length);
  for (const n of Object.keys(METRICS) as MetricName[]) {
    const m = METRICS[n];
    if (rest === n) return n;
    if (m.type === 'histogram' && (rest === `${n}_bucket` || rest === `${n}_sum` || rest === `${n}_count`)) return n;
  }
  return null;
}

// ---------------------------------------------------------------- the run's metrics

interface PodCycle {
  pod: string;
  strategy: string;
  oldUid: string | null;
  phase: Phase | null;
  phaseStart: number;
  /** A new pod (other uid) seen by a watch before the old one was reported gone. */
  newPodSeenAt: number | null;
  gateStarted: boolean;
}

export interface RunMetricsOptions {
  namespace: string;
  /** The cluster (CrateDB or StatefulSet name); refined by setCluster() once discovery ran. */
  cluster: string;
  operation: MetricOperation;
  /** Milliseconds (the engine's clock). */
  now: () => number;
  /** Called after every change worth publishing (a phase change, the allocation state, the end). */
  onChange?: (reason: string) => void;
}

/** The metrics of one run, fed by the engine's log lines, Events and watched pods, and its result. */
export class RunMetrics {
  readonly registry = new Registry();
  readonly namespace: string;
  cluster: string;
  readonly operation: MetricOperation;
  private readonly now: () => number;
  private readonly onChange: (reason: string) => void;
  private readonly started: number;
  private readonly operations: Counter;
  private readonly podRestarts: Counter;
  private readonly podDuration: Histogram;
  private readonly operationDuration: Histogram;
  private readonly healthGateFailures: Counter;
  private readonly lastSuccess: Gauge;
  private readonly lastRun: Gauge;
  private readonly allocationRestricted: Gauge;
  private seedSamples: Sample[] = [];
  private readonly cycles = new Map<string, PodCycle>();
  private readonly strategyOf = new Map<string, string>();
  private containerOf = new Map<string, string>();
  private finished = false;
  /** The allocation state this run knows (null: it never touched it). */
  private allocation: 0 | 1 | null = null;
  private tookLock = false;

  constructor(opts: RunMetricsOptions) {
    this.namespace = boundedLabel('namespace', opts.namespace);
    this.cluster = boundedLabel('cluster', opts.cluster);
    this.operation = opts.operation;
    this.now = opts.now;
    this.onChange = opts.onChange ?? (() => {});
    this.started = opts.now();
    type Config = { name: string; help: string; labelNames: string[]; registers: Registry[]; buckets?: number[] };
    const make = <T>(name: MetricName, ctor: new (cfg: Config) => T, extra: { buckets?: number[] } = {}): T =>
      new ctor({
        name: `${METRIC_PREFIX}${name}`,
        help: METRICS[name].help,
        labelNames: [...METRICS[name].labels],
        registers: [this.registry],
        ...extra,
      });
    this.operations = make('operations_total', Counter);
    this.podRestarts = make('pod_restarts_total', Counter);
    this.podDuration = make('pod_duration_seconds', Histogram, { buckets: POD_PHASE_BUCKETS });
    this.operationDuration = make('operation_duration_seconds', Histogram, { buckets: OPERATION_BUCKETS });
    this.healthGateFailures = make('health_gate_failures_total', Counter);
    this.lastSuccess = make('last_success_timestamp_seconds', Gauge);
    this.lastRun = make('last_run_timestamp_seconds', Gauge);
    this.allocationRestricted = make('allocation_restricted', Gauge);
  }

  private base(): { namespace: string; cluster: string } {
    return { namespace: this.namespace, cluster: this.cluster };
  }

  /** Discovery's view: the cluster's name (for the labels) and each pod's CrateDB container. */
  setCluster(cluster: CrateDBCluster): void {
    const name = boundedLabel('cluster', cluster.name);
    if (name !== 'invalid') this.cluster = name;
    this.containerOf = new Map(cluster.pods.map((p) => [p.name, p.containerName]));
    for (const s of cluster.statefulSets) {
      for (const p of cluster.pods.filter((x) => x.statefulSetName === s.name))
        this.strategyOf.set(p.name, s.detection.strategy);
    }
    this.initZero(new Set(cluster.statefulSets.map((s) => s.detection.strategy)));
    this.onChange('started');
  }

  /**
   * Known label sets start at 0 (Prometheus' advice), pushed when the run starts: increase() then sees a first
   * failure as 0 -> 1 instead of a new series.
   */
  private initZero(strategies: Set<string>): void {
    const b = this.base();
    this.operations.inc({ ...b, operation: this.operation, result: 'success', error_kind: 'none' }, 0);
    for (const k of ERROR_KINDS)
      if (k !== 'none') this.operations.inc({ ...b, operation: this.operation, result: 'failure', error_kind: k }, 0);
    for (const check of HEALTH_CHECKS) this.healthGateFailures.inc({ ...b, check }, 0);
    if (this.operation !== 'decommission') {
      for (const strategy of strategies) {
        for (const result of POD_RESULTS)
          this.podRestarts.inc({ ...b, strategy: boundedLabel('strategy', strategy), result }, 0);
      }
    }
  }

  /**
   * What earlier runs left (the Pushgateway group's or the textfile's exposition text): counters and histograms
   * go on from there; gauges of other label sets (e.g. another operation's last success) are kept.
   */
  seed(text: string, job?: string): void {
    this.seedSamples = parseExposition(text).filter((s) => {
      if (familyOf(s.name) === null) return false;
      if (job !== undefined && s.labels.job !== job) return false;
      return s.labels.namespace === this.namespace && s.labels.cluster === this.cluster;
    });
    for (const s of this.seedSamples) {
      delete s.labels.job;
      delete s.labels.instance;
    }
  }

  // ---------------------------------------------------------------- inputs

  /** One engine log line (all levels, before filtering): the scope fields say which pod and step. */
  observeLog(_level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.finished) return;
    const pod = typeof fields?.pod === 'string' ? fields.pod : undefined;
    const step = typeof fields?.step === 'string' ? fields.step : undefined;
    const strategy = typeof fields?.strategy === 'string' ? fields.strategy : undefined;
    if (pod && strategy) {
      this.strategyOf.set(pod, strategy);
      const c = this.cycles.get(pod);
      if (c) c.strategy = strategy;
    }
    // A resumed run takes over the restriction a crashed run left (openOperation says so).
    if (/^Took lock /.test(message)) this.tookLock = true;
    // A resumed run (or one taking over an expired Lease) holds the restriction a crashed run left, until it resets it.
    if (/(had set|left) cluster\.routing\.allocation\.enable=/.test(message))
      this.setAllocation(1, 'allocation restricted (left by an earlier run)');
    // The engine's own SET and RESET (shared/allocation.ts; the SET has no Event of its own, a pod's reset none either).
    if (/^Set cluster\.routing\.allocation\.enable = /.test(message)) this.setAllocation(1, 'allocation restricted');
    if (/^Reset cluster\.routing\.allocation\.enable /.test(message) && this.allocation === 1)
      this.setAllocation(0, 'allocation reset');
    if (!pod || !step) return;
    const c = this.cycles.get(pod);
    if (!c) return;
    // waitPodBack's lines (shared/decommission.ts): the re-created pod is Ready, then its node rejoined.
    if (/^Pod \S+ is Ready again /.test(message)) {
      if (c.phase === 'recreate') this.transition(c, 'ready');
      if (c.phase === 'ready') this.transition(c, 'rejoin');
      return;
    }
    if (/^Node \S+ rejoined the cluster$/.test(message)) {
      if (c.phase === 'rejoin') {
        this.observePhase(c, 'rejoin');
        c.phase = null;
        c.phaseStart = this.now();
        this.onChange('rejoined');
      }
      return;
    }
    // Manual strategy: the CrateDB process has exited once the engine goes on to delete the pod.
    if (step === 'delete' && c.phase === 'drain' && c.strategy === 'manual') this.transition(c, 'exit');
    if (step === 'health-gate' && !c.gateStarted && c.phase === null) {
      c.gateStarted = true;
      c.phase = 'health_gate';
      c.phaseStart = this.now();
      this.onChange('health_gate');
    }
  }

  /** One Event the engine records (best effort on its side; seen here before it is sent). */
  observeEvent(event: EventInput): void {
    if (this.finished) return;
    const pod = event.involvedObject.kind === 'Pod' ? event.involvedObject.name : null;
    switch (event.reason) {
      case 'AllocationReset':
        if (this.allocation === 1) this.setAllocation(0, 'allocation reset');
        return;
      case 'HealthGateBlocked': {
        const m = /failed checks ([a-z_]+(?:, [a-z_]+)*)/.exec(event.message);
        for (const check of m ? m[1]!.split(', ') : []) {
          if ((HEALTH_CHECKS as readonly string[]).includes(check))
            this.healthGateFailures.inc({ ...this.base(), check });
        }
        if (pod) this.endGate(pod, false);
        this.onChange('health gate blocked');
        return;
      }
    }
    if (!pod) return;
    switch (event.reason) {
      case 'DecommissionStarted': {
        const c: PodCycle = {
          pod,
          strategy: this.strategyOf.get(pod) ?? 'unknown',
          oldUid: event.involvedObject.uid ?? null,
          phase: 'drain',
          phaseStart: this.now(),
          newPodSeenAt: null,
          gateStarted: false,
        };
        this.cycles.set(pod, c);
        this.onChange('drain');
        return;
      }
      case 'PodDeleted': {
        const c = this.cycles.get(pod);
        if (!c || (c.phase !== 'drain' && c.phase !== 'exit')) return;
        this.transition(c, 'recreate');
        if (c.newPodSeenAt !== null) this.transition(c, 'ready');
        return;
      }
      case 'PodRestarted':
        this.endGate(pod, true);
        this.onChange('health gate passed');
        return;
    }
  }

  /** A pod state one of the engine's watches delivered (null: gone). */
  observePod(namespace: string, name: string, pod: V1Pod | null): void {
    if (this.finished || namespace !== this.namespace) return;
    const c = this.cycles.get(name);
    if (!c || !pod) return;
    const uid = pod.metadata?.uid ?? null;
    if (uid && c.oldUid && uid !== c.oldUid) {
      if (c.phase === 'recreate') this.transition(c, 'ready');
      else if (c.phase === 'drain' || c.phase === 'exit') c.newPodSeenAt ??= this.now();
      return;
    }
    // Kubernetes-managed: dc_util drained in preStop and the CrateDB container has terminated.
    if (c.phase === 'drain' && uid === c.oldUid) {
      const container = this.containerOf.get(name) ?? 'crate';
      const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
      if (cs?.state?.terminated) this.transition(c, 'exit');
    }
  }

  /** The run's result (the engine's result record); `terminated`: stopped by SIGTERM. Once. */
  /**
   * The run ended with this result. `kind` is the outcome's kind (shared/task/outcome.ts: the operation, or `failed`
   * for a failure record); default the run's operation.
   */
  finish(result: Record<string, unknown>, opts: { terminated?: boolean; kind?: string } = {}): void {
    if (this.finished) return;
    this.finished = true;
    const success = result.success === true;
    const errorKind = errorKindLabel(result.errorKind, success, opts.terminated === true && !success);
    const end = this.now();
    const b = this.base();
    this.operations.inc({
      ...b,
      operation: this.operation,
      result: success ? 'success' : 'failure',
      error_kind: errorKind,
    });
    const durationSeconds =
      typeof result.duration === 'number' && result.duration >= 0 ? result.duration : (end - this.started) / 1000;
    this.operationDuration.observe({ ...b, operation: this.operation }, durationSeconds);
    const kind = opts.kind ?? this.operation;
    const pods =
      kind === 'rollout'
        ? ((result.pods as Array<Record<string, unknown>> | undefined) ?? [])
        : kind === 'restart'
          ? [result]
          : [];
    for (const p of pods) {
      // A pod the pre-flight refused, or a run that never got the lock, touched nothing: not a restart.
      if (this.operation === 'restart' && !p.decommission && p.success !== true) continue;
      const strategy = boundedLabel('strategy', p.strategyUsed);
      const r = p.skipped === true ? 'skipped' : p.success === true ? 'success' : 'failure';
      this.podRestarts.inc({ ...b, strategy, result: r });
    }
    this.lastRun.set({ ...b, operation: this.operation }, end / 1000);
    if (success) this.lastSuccess.set({ ...b, operation: this.operation }, end / 1000);
    // A run that held the lock reports what it left: 1 only when the engine says the restriction is still there.
    if (this.tookLock)
      this.setAllocation(result.allocationReset === false || this.allocation === 1 ? 1 : 0, 'finished', false);
    this.onChange('finished');
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The allocation state this run reports (null: not touched, the seeded value stands). */
  get allocationState(): 0 | 1 | null {
    return this.allocation;
  }

  // ---------------------------------------------------------------- phases

  private setAllocation(v: 0 | 1, reason: string, notify = true): void {
    this.allocation = v;
    this.allocationRestricted.set(this.base(), v);
    if (notify) this.onChange(reason);
  }

  private observePhase(c: PodCycle, phase: Phase): void {
    const seconds = Math.max(0, (this.now() - c.phaseStart) / 1000);
    this.podDuration.observe({ ...this.base(), strategy: boundedLabel('strategy', c.strategy), phase }, seconds);
  }

  /** End the current phase (observing it) and start `next`. */
  private transition(c: PodCycle, next: Phase): void {
    if (c.phase) this.observePhase(c, c.phase);
    c.phase = next;
    c.phaseStart = this.now();
    this.onChange(next);
  }

  private endGate(pod: string, passed: boolean): void {
    const c = this.cycles.get(pod);
    if (!c) return;
    // Without a 'health-gate' line first, the gate is counted from the node's rejoin (phase null).
    if (passed && (c.phase === 'health_gate' || c.phase === null)) this.observePhase(c, 'health_gate');
    this.cycles.delete(pod);
  }

  // ---------------------------------------------------------------- output

  /** The exposition text: this run's values on top of the seed (counters and histograms added up). */
  async text(): Promise<string> {
    const families = await this.registry.getMetricsAsJSON();
    const merged = new Map<string, Map<string, Sample>>();
    const famSamples = (n: MetricName) => {
      let m = merged.get(n);
      if (!m) merged.set(n, (m = new Map()));
      return m;
    };
    for (const s of this.seedSamples) {
      const n = familyOf(s.name)!;
      famSamples(n).set(sampleKey(s.name, s.labels), { ...s, labels: { ...s.labels } });
    }
    for (const f of families) {
      const n = f.name.slice(METRIC_PREFIX.length) as MetricName;
      const kind = METRICS[n].type;
      const target = famSamples(n);
      for (const v of f.values) {
        const name = (v as { metricName?: string }).metricName ?? f.name;
        const labels: Record<string, string> = {};
        for (const [k, val] of Object.entries(v.labels)) if (k !== 'le') labels[k] = String(val);
        if (v.labels.le !== undefined)
          labels.le = formatNumber(Number(v.labels.le === '+Inf' ? Infinity : v.labels.le));
        const key = sampleKey(name, labels);
        const prev = target.get(key);
        const value = kind === 'gauge' || !prev ? v.value : prev.value + v.value;
        target.set(key, { name, labels, value });
      }
    }
    // A histogram seeded for a label set this run did not observe keeps its buckets; one observed only here is
    // complete from prom-client. Both are consistent because bucket boundaries are fixed in this module.
    let out = '';
    for (const n of Object.keys(METRICS) as MetricName[]) {
      const samples = merged.get(n);
      if (!samples || samples.size === 0) continue;
      out += `# HELP ${METRIC_PREFIX}${n} ${METRICS[n].help}\n# TYPE ${METRIC_PREFIX}${n} ${METRICS[n].type}\n`;
      const sorted = [...samples.values()].sort((a, b) => {
        const ka = sampleKey(a.name.replace(/_(bucket|sum|count)$/, ''), withoutLe(a.labels));
        const kb = sampleKey(b.name.replace(/_(bucket|sum|count)$/, ''), withoutLe(b.labels));
        if (ka !== kb) return ka < kb ? -1 : 1;
        const order = (s: Sample) => (s.name.endsWith('_bucket') ? 0 : s.name.endsWith('_sum') ? 1 : 2);
        if (order(a) !== order(b)) return order(a) - order(b);
        return parseNumber(a.labels.le ?? '0') - parseNumber(b.labels.le ?? '0');
      });
      for (const s of sorted) {
        const labels = Object.entries(s.labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',');
        out += `${s.name}${labels ? `{${labels}}` : ''} ${formatNumber(s.value)}\n`;
      }
    }
    return out;
  }
}

function withoutLe(labels: Record<string, string>): Record<string, string> {
  const { le: _le, ...rest } = labels;
  void _le;
  return rest;
}
