// The exec session transport (shared/adapters/sql-exec-session.ts): the REAL adapter over the fake exec channel
// (FakeKube.openExec + the fake `sh` loop in test/support/fakes/sql.ts), and the REAL shell loop under /bin/sh with
// the real curl against a local HTTP server.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SESSION_SCRIPT, createExecSessionSqlTransport } from '../../../shared/adapters/sql-exec-session.js';
import { createSqlTransportFactory } from '../../../shared/adapters/sql-factory.js';
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import { rollingRestart } from '../../../shared/index.js';
import type { PodInfo } from '../../../shared/schemas.js';
import { SqlEndpoint } from '../../../shared/schemas.js';
import type { FakeExecSession } from '../../support/fakes/kube.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from '../engine/helpers.js';

const ns = 'crate';

function podOf(w: World, i = 0): PodInfo {
  return w.clusterModel().pods[i]!;
}

const sessionsOf = (w: World, pod?: string) =>
  w.kube.execs.filter((c) => c.command[0] === 'sh' && c.command[2] === SESSION_SCRIPT && (!pod || c.pod === pod));

describe('exec session transport over the fake exec channel', () => {
  it('runs many statements over one exec, answers and CrateDB errors framed apart', async () => {
    const w = await world({ replicas: 3 });
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    for (let i = 0; i < 5; i++) expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    await expect(t.query('SELECT nonsense FROM nowhere')).rejects.toBeInstanceOf(CrateSqlError);
    // CrateDB's error echoes the statement: multi-byte characters and text that looks like a frame stay in the body.
    const echoed = await t.query(`SELECT 'ä€\\n end 0 ${'x'.repeat(20_000)}'`).catch((e: unknown) => e);
    expect(echoed).toBeInstanceOf(CrateSqlError);
    expect((echoed as Error).message).toContain("SELECT 'ä€\\n end 0 xxx");
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    expect(sessionsOf(w)).toHaveLength(1);
    // The SQL travels on stdin only, never in the exec's argv.
    expect(sessionsOf(w)[0]!.command.join(' ')).not.toContain('SELECT');
    expect(w.kube.execSessions.size).toBe(1);
    w.sql.close();
    expect(w.kube.execSessions.size).toBe(0);
  });

  it('answers split into 1-character chunks (multi-byte too) are framed the same', async () => {
    const w = await world({ replicas: 3 });
    const inner = w.kube.hooks.execSession!;
    w.kube.hooks.execSession = (s) => {
      const split: FakeExecSession = Object.create(s) as FakeExecSession;
      Object.defineProperty(split, 'stdout', { value: (text: string) => [...text].forEach((c) => s.stdout(c)) });
      inner(split);
    };
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    const echoed = await t.query("SELECT 'ä€'").catch((e: unknown) => e);
    expect((echoed as Error).message).toContain("SELECT 'ä€'");
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
  });

  it('a session killed mid-statement is a SqlConnectionError; the next statement opens a new session', async () => {
    const w = await world({ replicas: 3 });
    const inner = w.kube.hooks.execSession!;
    let first = true;
    w.kube.hooks.execSession = (s) => {
      if (!first) return inner(s);
      first = false;
      s.stdout(`${s.call.command[4]} ready\n`);
      s.onStdin(() => void w.clock.delay(5_000).then(() => s.drop('the kubelet went away'))); // dies with the statement in flight
    };
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    const err = await t.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect((err as Error).message).toMatch(/ended during the statement \(its outcome is unknown\)/);
    expect((err as Error).message).not.toContain('SELECT');
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    expect(sessionsOf(w)).toHaveLength(2);
    expect(w.kube.execSessions.size).toBe(1);
  });

  it('a container restart ends the session; the next statement opens a new one', async () => {
    const w = await world({ replicas: 3 });
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    await t.query('SELECT 1');
    w.kube.dropExecSessions(ns, podOf(w).name);
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    expect(sessionsOf(w)).toHaveLength(2);
  });

  it('an abort mid-statement rejects with the reason and closes the session', async () => {
    const w = await world({ replicas: 3 });
    w.kube.hooks.execSession = (s) => s.stdout(`${s.call.command[4]} ready\n`); // never answers
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    const ac = new AbortController();
    const q = t.query('SELECT 1', [], { signal: ac.signal });
    await w.clock.delay(10_000); // 10 s of engine time
    expect(w.kube.execSessions.size).toBe(1);
    ac.abort(new Error('stop'));
    await expect(q).rejects.toThrow('stop');
    expect(w.kube.execSessions.size).toBe(0);
  });

  it('statements are sent one at a time (no pipelining)', async () => {
    const w = await world({ replicas: 3 });
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    let inFlight = 0;
    let most = 0;
    const inner = w.kube.hooks.execSession!;
    w.kube.hooks.execSession = (s) => {
      s.onStdin(() => (most = Math.max(most, ++inFlight)));
      const proxy: FakeExecSession = Object.create(s) as FakeExecSession;
      Object.defineProperty(proxy, 'stdout', {
        value: (text: string) => {
          if (/ end \d+\n$/.test(text)) inFlight--;
          s.stdout(text);
        },
      });
      inner(proxy);
    };
    const all = await Promise.all([1, 2, 3, 4].map(() => t.query('SELECT 1')));
    expect(all.map((r) => r.rows)).toEqual([[[1]], [[1]], [[1]], [[1]]]);
    expect(most).toBe(1);
    expect(sessionsOf(w)).toHaveLength(1);
  });

  it('the real factory keeps one session per pod and closes them all on close() and on the run signal', async () => {
    const w = await world({ replicas: 3 });
    const ac = new AbortController();
    const factory = createSqlTransportFactory(w.kube, { signal: ac.signal });
    const endpoint = SqlEndpoint.parse({});
    expect(factory.exec(ns, podOf(w, 0), endpoint)).toBe(factory.exec(ns, podOf(w, 0), endpoint));
    await factory.exec(ns, podOf(w, 0), endpoint).query('SELECT 1');
    await factory.exec(ns, podOf(w, 1), endpoint).query('SELECT 1');
    await factory.exec(ns, podOf(w, 0), endpoint).query('SELECT 1');
    expect(w.kube.execSessions.size).toBe(2);
    expect(w.kube.execs).toHaveLength(2);
    ac.abort();
    expect(w.kube.execSessions.size).toBe(0);
    const again = createSqlTransportFactory(w.kube);
    await again.exec(ns, podOf(w, 2), endpoint).query('SELECT 1');
    expect(w.kube.execSessions.size).toBe(1);
    again.close?.();
    expect(w.kube.execSessions.size).toBe(0);
  });

  it('the factory forgets and closes the sessions of a pod replaced by one of the same name (a new uid)', async () => {
    const w = await world({ replicas: 3 });
    const factory = createSqlTransportFactory(w.kube);
    const endpoint = SqlEndpoint.parse({});
    const old = podOf(w, 0);
    const first = factory.exec(ns, old, endpoint);
    await first.query('SELECT 1');
    await factory.exec(ns, podOf(w, 1), endpoint).query('SELECT 1');
    expect(w.kube.execSessions.size).toBe(2);
    factory.exec(ns, { ...old, uid: `${old.uid}-recreated` }, endpoint);
    // The old uid's session is closed at once; the other pod's stays.
    expect(w.kube.execSessions.size).toBe(1);
    expect(factory.exec(ns, old, endpoint)).not.toBe(first);
    factory.close?.();
    expect(w.kube.execSessions.size).toBe(0);
  });

  it('a container without sh: one exec per statement instead', async () => {
    const w = await world({ replicas: 3 });
    w.kube.hooks.execSession = (s) => s.exit(127);
    const t = w.sql.exec(ns, podOf(w), SqlEndpoint.parse({}));
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
    expect(w.kube.execs.map((c) => c.command[0])).toEqual(['sh', 'curl', 'curl']);
  });

  it('a rollout over exec uses at most 2 execs per pod (one per incarnation), not one per statement', async () => {
    const w = await world({ replicas: 3 });
    expect((await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate })).success).toBe(true);
    const statements = w.sql.calls.filter((c) => c.kind === 'exec').length;
    expect(statements).toBeGreaterThan(30);
    // Every exec is a session (none per statement), at most 2 per pod (reads prefer some pods, so a pod may have 0).
    expect(w.kube.execs.length).toBe(sessionsOf(w).length);
    expect(sessionsOf(w).length).toBeGreaterThanOrEqual(1);
    for (const name of w.podNames()) expect(sessionsOf(w, name).length, name).toBeLessThanOrEqual(2);
  });
});

describe('the real shell loop (/bin/sh, real curl) against a local HTTP server', () => {
  it('frames each answer, passes bodies byte for byte and reports curl failures by exit code', async () => {
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        const stmt = (JSON.parse(body) as { stmt: string }).stmt;
        res.writeHead(stmt === 'bad' ? 400 : 200, { 'content-type': 'application/json' });
        res.end(
          stmt === 'bad'
            ? JSON.stringify({ error: { message: 'SQLParseException[bad]', code: 4000 } })
            : JSON.stringify({ cols: ['s'], rows: [[stmt]], rowcount: 1 }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const procs = new Set<ReturnType<typeof spawn>>();
    // A KubernetesPort whose openExec runs the command locally (only what the transport uses).
    const kube = {
      openExec(_ns: string, _pod: string, _c: string, command: string[], io: { stdout(c: string): void }) {
        const p = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
        procs.add(p);
        p.stdout.setEncoding('utf8');
        p.stdout.on('data', (c: string) => io.stdout(c));
        const done = new Promise<number>((resolve) => p.on('exit', (code) => (procs.delete(p), resolve(code ?? 1))));
        return { write: (t: string) => void p.stdin.write(t), close: () => p.kill(), done };
      },
    };
    const t = createExecSessionSqlTransport({
      kube: kube as never,
      namespace: ns,
      pod: 'p',
      container: 'crate',
      port,
    });
    try {
      const tricky = String.raw`SELECT 'a\nb "q" \\ ä€ ' || $1`;
      expect((await t.query(tricky, ['x y  z'])).rows).toEqual([[tricky]]);
      expect(bodies.at(-1)).toBe(JSON.stringify({ stmt: tricky, args: ['x y  z'] }));
      await expect(t.query('bad')).rejects.toBeInstanceOf(CrateSqlError);
      expect((await t.query('SELECT 2')).rows).toEqual([['SELECT 2']]);
      expect(procs.size).toBe(1);
      server.close();
      server.closeAllConnections();
      const down = await t.query('SELECT 3').catch((e: unknown) => e);
      expect(down).toBeInstanceOf(SqlConnectionError);
      expect((down as Error).message).toMatch(/cannot reach CrateDB/);
    } finally {
      t.close();
      server.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(procs.size).toBe(0);
  });
});
