// Client traffic for the e2e scenarios: while a rollout runs, every node of a simulated CrateDB cluster (the
// draining one included) gets a write and a read every `intervalMs`, over its real HTTP port (`POST /_sql`, as a
// password user like an application would). Each answer is classified by kind, per node; every acknowledged write
// is recorded so the test can read them all back at the end and assert that none was lost.
//
//   const traffic = await startTraffic({ cluster: s.cluster });
//   ... run the rollout ...
//   const report = await traffic.stop();
//   expect(await traffic.lost()).toEqual([]);
//
// Kinds of failure (as CrateDB 6.4.3 answers):
// - refused:     HTTP 500 plain text `[<node>][<ip>:4300][sql] disconnected`: the node is draining (counted
//                apart: a client must retry elsewhere; CrateDB does not count these as active requests)
// - unreachable: no HTTP answer (connection refused/reset, timeout: the process is gone or restarting) or
//                5032 NodeNotConnectedException (the process still serves but left the cluster)
// - unavailable: an error about data (5002 UnavailableShardsException: no active primary; 5000 no master)
// - missing:     a read of an acknowledged write found no row (data a client was told is stored is not there)
// - other:       anything else (auth failures, parse errors: a bug in this helper or the simulator)
import http from 'node:http';
import https from 'node:https';
import { sim, simState } from './harness.js';

export type TrafficKind = 'ok' | 'refused' | 'unreachable' | 'unavailable' | 'missing' | 'other';
export type KindCounts = Record<TrafficKind, number>;

export interface TrafficReport {
  writes: KindCounts;
  reads: KindCounts;
  /** Per node name (stable across restarts of its pod). */
  perNode: Record<string, { writes: KindCounts; reads: KindCounts }>;
  /** Writes CrateDB acknowledged (HTTP 200, rowcount 1). */
  acknowledged: number;
  /** A few messages of failures other than `refused`/`unreachable`, for the assertion's output. */
  samples: string[];
  durationMs: number;
}

export interface TrafficOptions {
  /** Simulator cluster name. */
  cluster: string;
  /** Table written and read (`id`, `v`, `node` columns); default doc.metrics (every scenario has it). */
  table?: string;
  /** Pause between two rounds (a write, then a read) to one node; default 200 ms. */
  intervalMs?: number;
  /** Per-request timeout; default 5 s. */
  requestTimeoutMs?: number;
}

export interface Traffic {
  /** Stop sending; resolves once every request in flight has been answered or timed out. */
  stop(): Promise<TrafficReport>;
  /** Read every acknowledged write back through a node that answers; the ids not found. */
  lost(): Promise<number[]>;
  /** The report so far. */
  report(): TrafficReport;
}

const USER = { name: 'traffic', password: 'traffic-pw' };

const zero = (): KindCounts => ({ ok: 0, refused: 0, unreachable: 0, unavailable: 0, missing: 0, other: 0 });

interface Answer {
  status: number; // 0: no HTTP answer
  body: string;
  error?: string;
}

function post(url: string, stmt: string, args: unknown[], timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const u = new URL('/_sql', url);
    const body = JSON.stringify({ stmt, args });
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent: false,
        auth: `${USER.name}:${USER.password}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
    req.end(body);
  });
}

/** The kind of a non-200 answer. */
export function classify(a: Answer): Exclude<TrafficKind, 'ok' | 'missing'> {
  if (a.status === 0) return 'unreachable';
  if (a.status === 500 && /\]\[sql\] disconnected\s*$/.test(a.body) && !a.body.trim().startsWith('{')) return 'refused';
  let code: number | undefined;
  let message: string;
  try {
    const j = JSON.parse(a.body) as { error?: { code?: number; message?: string } };
    code = j.error?.code;
    message = j.error?.message ?? '';
  } catch {
    return 'other';
  }
  if (code === 5032 || /NodeNotConnected|NodeDisconnected/.test(message)) return 'unreachable';
  if (code === 5002 || /UnavailableShards|no master|primary shard is not active/i.test(message)) return 'unavailable';
  return 'other';
}

/** Add the traffic user (a password user, as applications connect) to the simulated cluster's users. */
async function ensureUser(cluster: string): Promise<void> {
  const cfg = await sim<{ users: { name: string }[] | null }>('GET', `/clusters/${cluster}/config`);
  const users = (cfg.users ?? []).filter((u) => u.name !== USER.name);
  await sim('POST', `/clusters/${cluster}/config`, { users: [...users, { ...USER, superuser: false }] });
}

export async function startTraffic(opts: TrafficOptions): Promise<Traffic> {
  const table = opts.table ?? 'doc.metrics';
  const intervalMs = opts.intervalMs ?? 200;
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  await ensureUser(opts.cluster);

  const started = Date.now();
  const writes = zero();
  const reads = zero();
  const perNode: TrafficReport['perNode'] = {};
  const acked: number[] = [];
  const samples: string[] = [];
  const urls = new Map<string, string>(); // node name -> rest_url (refreshed)
  const loops = new Map<string, Promise<void>>();
  let nextId = 1;
  let stopped = false;
  let stopTimer: (() => void) | undefined;
  const stoppedSignal = new Promise<void>((resolve) => (stopTimer = resolve));

  const sleep = (ms: number) => Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), stoppedSignal]);
  const count = (node: string, what: 'writes' | 'reads', kind: TrafficKind, a?: Answer) => {
    const n = (perNode[node] ??= { writes: zero(), reads: zero() });
    n[what][kind]++;
    (what === 'writes' ? writes : reads)[kind]++;
    if (a && kind !== 'ok' && kind !== 'refused' && kind !== 'unreachable' && samples.length < 20) {
      samples.push(`${what} via ${node}: ${kind}: HTTP ${a.status} ${a.error ?? a.body.slice(0, 200)}`);
    }
  };

  const round = async (node: string, url: string) => {
    const id = nextId++;
    const w = await post(url, `INSERT INTO ${table} (id, v, node) VALUES (?, ?, ?)`, [id, `w${id}`, node], timeoutMs);
    if (w.status === 200) {
      acked.push(id);
      count(node, 'writes', 'ok');
    } else count(node, 'writes', classify(w), w);
    if (acked.length === 0) return;
    const probe = acked[Math.floor(Math.random() * acked.length)]!;
    const r = await post(url, `SELECT v FROM ${table} WHERE id = ?`, [probe], timeoutMs);
    if (r.status !== 200) return count(node, 'reads', classify(r), r);
    let rows: unknown[];
    try {
      rows = (JSON.parse(r.body) as { rows?: unknown[] }).rows ?? [];
    } catch {
      return count(node, 'reads', 'other', r);
    }
    if (rows.length === 1) count(node, 'reads', 'ok');
    else
      count(node, 'reads', 'missing', { status: 200, body: `id ${probe} acknowledged, read ${JSON.stringify(rows)}` });
  };

  const loop = async (node: string) => {
    while (!stopped) {
      const url = urls.get(node);
      if (url) await round(node, url);
      await sleep(intervalMs);
    }
  };

  const refresh = async () => {
    const st = await simState(opts.cluster);
    const seen = new Set<string>();
    for (const n of (st.nodes ?? []) as { name: string; rest_url?: string }[]) {
      if (!n.rest_url) continue;
      seen.add(n.name);
      urls.set(n.name, n.rest_url);
      if (!loops.has(n.name)) loops.set(n.name, loop(n.name));
    }
    // a node that left the cluster keeps its loop but gets no requests until it is back
    for (const name of [...urls.keys()]) if (!seen.has(name)) urls.delete(name);
  };

  await refresh();
  if (loops.size === 0) throw new Error(`traffic: simulated cluster ${opts.cluster} has no node with a rest_url`);
  const refresher = (async () => {
    while (!stopped) {
      await refresh().catch(() => undefined); // the coordinator is local; a failed refresh keeps the last view
      await sleep(500);
    }
  })();

  const snapshot = (): TrafficReport => ({
    writes: { ...writes },
    reads: { ...reads },
    perNode: JSON.parse(JSON.stringify(perNode)) as TrafficReport['perNode'],
    acknowledged: acked.length,
    samples: [...samples],
    durationMs: Date.now() - started,
  });

  return {
    report: snapshot,
    async stop() {
      stopped = true;
      stopTimer?.();
      await Promise.all([refresher, ...loops.values()]);
      return snapshot();
    },
    async lost() {
      const st = await simState(opts.cluster);
      let lastErr = 'no node';
      for (const n of (st.nodes ?? []) as { name: string; rest_url?: string }[]) {
        if (!n.rest_url) continue;
        const a = await post(n.rest_url, `SELECT id FROM ${table} LIMIT 10000000`, [], 30_000);
        if (a.status !== 200) {
          lastErr = `${n.name}: HTTP ${a.status} ${a.error ?? a.body.slice(0, 200)}`;
          continue;
        }
        const found = new Set(((JSON.parse(a.body) as { rows: [number][] }).rows ?? []).map((r) => Number(r[0])));
        return acked.filter((id) => !found.has(id));
      }
      throw new Error(`traffic: no node of ${opts.cluster} answered the read-back (${lastErr})`);
    },
  };
}
