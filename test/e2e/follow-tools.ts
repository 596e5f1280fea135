// Helpers of the long-follow e2e (issue 7): the plugin on a real pseudo-terminal, a TCP relay in front of the API
// server that can be frozen (every API call through it then hangs, as on a dead network path), and the runner's
// log read back with the kubelet's timestamps.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn as ptySpawn } from '@lydell/node-pty';
import { KUBECONFIG, NODE, PLUGIN, REPO, kubectlOk, pluginSpawn } from './harness.js';

/** Remove ANSI escape sequences (listr2's cursor moves and colours) so a screen can be matched as text. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][A-Za-z0-9]|\u001b[=>78]|\r/g, '');
}

export interface PtyRun {
  pid: number;
  /** Everything the terminal showed so far (raw, with escape sequences). */
  screen(): string;
  /** Type into the terminal (e.g. '\x03' for Ctrl-C). */
  write(data: string): void;
  /** Resolves when the process exited: its code and when (Date.now()). */
  done: Promise<{ code: number; signal: number | undefined; at: number }>;
  kill(): void;
}

/** The plugin on a real pseudo-terminal (a TTY on stdin, stdout and stderr; Ctrl-C is the terminal's ^C -> SIGINT). */
export function pluginOnPty(args: string[], opts: { cols?: number; env?: Record<string, string> } = {}): PtyRun {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    KUBECONFIG,
    TERM: 'xterm-256color',
    ...opts.env,
  };
  const p = ptySpawn(NODE, [PLUGIN, ...args], { cols: opts.cols ?? 250, rows: 50, cwd: REPO, env });
  let screen = '';
  p.onData((d) => {
    screen += d;
  });
  const done = new Promise<{ code: number; signal: number | undefined; at: number }>((resolve) => {
    p.onExit(({ exitCode, signal }) => resolve({ code: exitCode, signal, at: Date.now() }));
  });
  return {
    pid: p.pid,
    screen: () => screen,
    write: (data) => p.write(data),
    done,
    kill: () => {
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The plugin with pipes, its exit time recorded (for "gone within 2 s" after a signal). */
export function pluginTimed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = pluginSpawn(args, env);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number; at: number; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), at: Date.now(), output: out }));
  });
  return { child, output: () => out, done };
}

/**
 * A TCP relay to the API server. `freeze()` stops it forwarding anything, in both directions, on every connection
 * open or to come (new ones are accepted and never answered): any API call through it then hangs mid-flight.
 */
export async function freezableRelay(upstream: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    sockets.add(client);
    client.on('error', () => undefined);
    client.on('close', () => sockets.delete(client));
    if (frozen) {
      client.pause();
      return;
    }
    const up = net.connect(upstream.port, upstream.host);
    sockets.add(up);
    up.on('error', () => client.destroy());
    up.on('close', () => {
      sockets.delete(up);
      if (!frozen) client.destroy();
    });
    client.on('close', () => {
      if (!frozen) up.destroy();
    });
    client.pipe(up);
    up.pipe(client);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    /** Connections accepted so far. */
    connections: () => connections,
    freeze() {
      frozen = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The API server the test kubeconfig names. */
export function apiServerAddress(): { host: string; port: number } {
  const m = /server:\s*https:\/\/([^:\s/]+):(\d+)/.exec(readFileSync(KUBECONFIG, 'utf8'));
  if (!m) throw new Error(`no https server in ${KUBECONFIG}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * A copy of the test kubeconfig whose server is the relay on 127.0.0.1 (the API server's certificate names
 * IP 127.0.0.1, so TLS verifies as before).
 */
export function kubeconfigVia(port: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-e2e-relay-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    readFileSync(KUBECONFIG, 'utf8').replace(/server:\s*https:\/\/[^\s]+/g, `server: https://127.0.0.1:${port}`),
  );
  return file;
}

/** The longest silence (s) between two lines of a pod's log, from the kubelet's timestamps. */
export async function longestLogSilence(namespace: string, pod: string): Promise<{ seconds: number; after: string }> {
  const log = await kubectlOk(['logs', pod, '-n', namespace, '--timestamps']);
  let best = { seconds: 0, after: '' };
  let prev: { t: number; line: string } | null = null;
  for (const line of log.split('\n')) {
    const sp = line.indexOf(' ');
    const t = Date.parse(line.slice(0, sp));
    if (!Number.isFinite(t)) continue;
    if (prev && (t - prev.t) / 1000 > best.seconds)
      best = { seconds: (t - prev.t) / 1000, after: prev.line.slice(sp + 1, sp + 200) };
    prev = { t, line };
  }
  return best;
}
