// Taps the engine's existing streams for RunMetrics, without the engine knowing: the logger (every line with its
// pod/step/strategy scope), the Kubernetes port's createEvent (the engine's Events) and watchPod (the pod states its
// watches deliver), and analyzeCluster (the cluster's name). Used by the runner and by the plugin's --local.
import type { EngineDeps, KubernetesPort, Logger, LogLevel } from './ports.js';
import type { CrateDBCluster } from './schemas.js';
import { loggerOf } from './log.js';
import { RunMetrics, type MetricOperation } from './metrics.js';
import { DEFAULT_PUSH_JOB, MetricsPublisher, describeUrl, type Fetch } from './metrics-push.js';

// Defined next to the publisher (no prom-client there), so the plugin's start-up can read them without loading it.

/** A logger that shows every line (all levels) to `observe` before passing it on. */
function tapLogger(
  base: Logger,
  observe: (level: LogLevel, message: string, fields: Record<string, unknown> | undefined) => void,
): Logger {
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    try {
      observe(level, message, fields);
    } catch {
      // metrics never break logging
    }
    base.log(level, message, fields);
  };
  return loggerOf(log);
}

/** The Kubernetes port with the engine's Events and watched pod states shown to the metrics first. */
function tapKube(kube: KubernetesPort, metrics: RunMetrics): KubernetesPort {
  const createEvent: KubernetesPort['createEvent'] = async (namespace, event) => {
    try {
      metrics.observeEvent(event);
    } catch {
      // never in the engine's way
    }
    return kube.createEvent(namespace, event);
  };
  const watchPod: KubernetesPort['watchPod'] = (namespace, name, handler) =>
    kube.watchPod(namespace, name, (pod) => {
      try {
        metrics.observePod(namespace, name, pod);
      } catch {
        // never in the engine's way
      }
      handler(pod);
    });
  // Every other member is the real port's, bound to it (adapters keep state on themselves).
  return new Proxy(kube, {
    get(target, prop) {
      if (prop === 'createEvent') return createEvent;
      if (prop === 'watchPod') return watchPod;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

interface AnalyzingEngine {
  analyzeCluster(deps: EngineDeps, input: never): Promise<CrateDBCluster>;
}

export interface MeteredRunOptions {
  operation: MetricOperation;
  namespace: string;
  /** Until discovery names it: the target's name (a pod target: its StatefulSet, the name without the ordinal). */
  cluster: string;
  /** Where the publisher's own lines go (not tapped). */
  log: Logger;
  now: () => number;
  pushgateway?: { url: string; job?: string | undefined } | undefined;
  metricsFile?: string | undefined;
  fetch?: Fetch;
  /** Aborted on SIGTERM: the state at that moment is pushed at once (the engine then stops safely). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** One run's metrics, tapped from the engine and published on every change. */
export class MeteredRun {
  readonly metrics: RunMetrics;
  readonly publisher: MetricsPublisher;
  private terminated = false;

  constructor(opts: MeteredRunOptions) {
    this.metrics = new RunMetrics({
      namespace: opts.namespace,
      cluster: opts.cluster,
      operation: opts.operation,
      now: opts.now,
      onChange: () => this.publisher.changed(),
    });
    this.publisher = new MetricsPublisher({
      metrics: this.metrics,
      log: opts.log,
      pushgateway: opts.pushgateway
        ? { url: opts.pushgateway.url, job: opts.pushgateway.job || DEFAULT_PUSH_JOB }
        : undefined,
      metricsFile: opts.metricsFile,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    const where = [
      opts.pushgateway
        ? `Pushgateway ${describeUrl(opts.pushgateway.url)} (job ${opts.pushgateway.job || DEFAULT_PUSH_JOB})`
        : null,
      opts.metricsFile ? `file ${opts.metricsFile}` : null,
    ].filter(Boolean);
    if (where.length) opts.log.info(`Metrics go to ${where.join(' and ')}`, { step: 'metrics' });
    if (opts.signal) {
      const onAbort = () => {
        this.terminated = true;
        this.publisher.changed();
      };
      if (opts.signal.aborted) this.terminated = true;
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /** deps with the logger and the Kubernetes port tapped. */
  deps(deps: EngineDeps): EngineDeps {
    return {
      ...deps,
      log: tapLogger(deps.log, (l, m, f) => this.metrics.observeLog(l, m, f)),
      kube: tapKube(deps.kube, this.metrics),
    };
  }

  /** The engine with analyzeCluster tapped (the cluster's name and pods). */
  engine<E extends AnalyzingEngine>(engine: E): E {
    const metrics = this.metrics;
    return {
      ...engine,
      async analyzeCluster(deps: EngineDeps, input: never) {
        const cluster = await engine.analyzeCluster(deps, input);
        try {
          metrics.setCluster(cluster);
        } catch {
          // never in the engine's way
        }
        return cluster;
      },
    };
  }

  /** Record the result and publish it (waits for the push; never throws). */
  async finish(result: Record<string, unknown>, opts: { terminated?: boolean; kind?: string } = {}): Promise<void> {
    try {
      this.metrics.finish(result, {
        terminated: opts.terminated ?? this.terminated,
        ...(opts.kind ? { kind: opts.kind } : {}),
      });
    } catch (err) {
      void err;
    }
    await this.publisher.flush();
  }
}

/** The cluster label before discovery: a pod's StatefulSet is its name without the ordinal. */
export function clusterGuess(target: { kind: string; name: string }): string {
  return target.kind === 'pod' ? target.name.replace(/-\d+$/, '') : target.name;
}
