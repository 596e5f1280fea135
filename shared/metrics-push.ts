// Getting a run's metrics out: a Prometheus Pushgateway (grouping key job + namespace + cluster) and/or a textfile
// for node-exporter's textfile collector. Pushes are coalesced (one in flight, the latest state follows), bounded
// by a timeout, and never fail the operation: a failure is logged (the first as a warning, the rest at debug).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { redactText } from './log.js';
import type { Logger } from './ports.js';
import type { RunMetrics } from './metrics.js';

/** The grouping key's job for ad-hoc runs; a schedule's runs use the CronJob's name (env CRATE_DECOMMISSION_PUSHGATEWAY_JOB). */
export const DEFAULT_PUSH_JOB = 'crate-decommission';
export const ENV_PUSHGATEWAY = 'CRATE_DECOMMISSION_PUSHGATEWAY';
export const ENV_PUSHGATEWAY_JOB = 'CRATE_DECOMMISSION_PUSHGATEWAY_JOB';
export const ENV_METRICS_FILE = 'CRATE_DECOMMISSION_METRICS_FILE';
const PUSH_TIMEOUT_MS = 5000;

interface PushTarget {
  /** Base URL of the Pushgateway, e.g. http://pushgateway.monitoring:9091 (user:password@ allowed: sent as Basic auth). */
  url: string;
  job: string;
}

/** Validate a --pushgateway value: http(s) URL without query or fragment. Returns the normalised base URL or an error text. */
export function checkPushgatewayUrl(raw: string): { url: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { error: `invalid --pushgateway "${redactText(raw)}": not a URL` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { error: `invalid --pushgateway "${redactText(raw)}": use an http:// or https:// URL` };
  if (u.search || u.hash) return { error: `invalid --pushgateway "${redactText(raw)}": no query or fragment` };
  return { url: u.toString().replace(/\/+$/, '') };
}

/** A URL for logs: no credentials. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return redactText(url);
  }
}

function requestParts(url: string): { base: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { base: u.toString().replace(/\/+$/, ''), headers };
}

/** /metrics/job/<job>/namespace/<ns>/cluster/<cluster> (values base64url-encoded when they hold a '/'). */
function groupPath(job: string, namespace: string, cluster: string): string {
  const part = (k: string, v: string) =>
    v.includes('/') || v === ''
      ? `${k}@base64/${Buffer.from(v).toString('base64url') || '='}`
      : `${k}/${encodeURIComponent(v)}`;
  return `/metrics/${part('job', job)}/${part('namespace', namespace)}/${part('cluster', cluster)}`;
}

export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface PublisherOptions {
  metrics: RunMetrics;
  log: Logger;
  pushgateway?: PushTarget | undefined;
  metricsFile?: string | undefined;
  fetch?: Fetch;
  timeoutMs?: number;
}

/**
 * Publishes a RunMetrics wherever configured. Call start() once (reads what earlier runs left: the Pushgateway
 * group or the textfile), changed() on every change, and flush() at the end. Never throws, never rejects.
 */
export class MetricsPublisher {
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;
  private inFlight: Promise<void> | null = null;
  private pending = false;
  private warned = false;
  private seeded = false;
  pushes = 0;
  failures = 0;

  constructor(private readonly opts: PublisherOptions) {
    this.fetch = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.timeoutMs = opts.timeoutMs ?? PUSH_TIMEOUT_MS;
  }

  get enabled(): boolean {
    return !!(this.opts.pushgateway || this.opts.metricsFile);
  }

  private fail(what: string, err: unknown): void {
    this.failures++;
    const text = redactText(err instanceof Error ? err.message : String(err));
    const msg = `Could not ${what}: ${text}; the operation goes on without it`;
    if (!this.warned) this.opts.log.warn(msg, { step: 'metrics' });
    else this.opts.log.debug(msg, { step: 'metrics' });
    this.warned = true;
  }

  /** Seed the metrics with what earlier runs left, so counters go on counting. */
  async start(): Promise<void> {
    if (this.seeded) return;
    const { metrics, pushgateway, metricsFile } = this.opts;
    try {
      if (pushgateway) {
        const { base, headers } = requestParts(pushgateway.url);
        const res = await this.fetch(`${base}/metrics`, {
          method: 'GET',
          headers,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status} from ${describeUrl(pushgateway.url)}/metrics`);
        const text = await res.text();
        metrics.seed(text, pushgateway.job);
      } else if (metricsFile) {
        const text = await readFile(metricsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return '';
          throw err;
        });
        metrics.seed(text);
      }
      this.seeded = true;
    } catch (err) {
      this.fail(
        pushgateway
          ? `read the earlier runs' metrics from the Pushgateway ${describeUrl(pushgateway.url)}`
          : `read ${metricsFile}`,
        err,
      );
    }
  }

  /** Something changed: publish soon (coalesced with a publish in flight). */
  changed(): void {
    if (!this.enabled) return;
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = this.publishLoop();
  }

  private async publishLoop(): Promise<void> {
    try {
      do {
        this.pending = false;
        await this.publishOnce();
      } while (this.pending);
    } finally {
      this.inFlight = null;
    }
  }

  private async publishOnce(): Promise<void> {
    const { metrics, pushgateway, metricsFile } = this.opts;
    let text: string;
    try {
      if (!this.seeded) await this.start();
      text = await metrics.text();
    } catch (err) {
      this.fail('render the metrics', err);
      return;
    }
    if (pushgateway) {
      try {
        const { base, headers } = requestParts(pushgateway.url);
        const res = await this.fetch(`${base}${groupPath(pushgateway.job, metrics.namespace, metrics.cluster)}`, {
          // POST replaces only the metric families pushed: anything else of the group stays.
          method: 'POST',
          headers: { ...headers, 'content-type': 'text/plain; version=0.0.4' },
          body: text,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (!res.ok) {
          const body = await res.text().catch(() => '');
          throw new Error(`HTTP ${res.status}${body ? `: ${body.trim().slice(0, 200)}` : ''}`);
        }
        this.pushes++;
      } catch (err) {
        this.fail(`push metrics to the Pushgateway ${describeUrl(pushgateway.url)}`, err);
      }
    }
    if (metricsFile) {
      try {
        // Atomic for the textfile collector: it never reads a half-written file.
        await mkdir(dirname(metricsFile), { recursive: true });
        const tmp = `${metricsFile}.${process.pid}.tmp`;
        await writeFile(tmp, text, 'utf8');
        await rename(tmp, metricsFile);
      } catch (err) {
        this.fail(`write the metrics to ${metricsFile}`, err);
      }
    }
  }

  /** Publish the latest state and wait for it (the end of the run, or SIGTERM). */
  async flush(): Promise<void> {
    if (!this.enabled) return;
    while (this.inFlight) await this.inFlight;
    this.inFlight = this.publishLoop();
    await this.inFlight;
  }
}
