// KubernetesPort.exec over client-node's Exec with a scripted websocket: stdin in, stdout/stderr out, exit code
// from the status channel, timeouts and handshake failures; KubernetesPort.openExec (the long-lived exec session):
// streamed output, writes, the end by status, by the client, by a dropped socket or a refused handshake.
import { EventEmitter } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../shared/errors.js';
import { createKubernetesPort } from '../../../shared/adapters/kube.js';

type Binary = (stream: number, buff: Buffer) => boolean;

interface Script {
  /** Frames the "container" sends once stdin is closed (or at once without stdin): [channel, text]. */
  frames?: Array<[number, string]>;
  /** Close the socket without a status frame. */
  dropWithoutStatus?: boolean;
  /** Never answer. */
  hang?: boolean;
  /** Fail the handshake with this error. */
  handshakeError?: Error;
}

class FakeSocket extends EventEmitter {
  readonly protocol = 'v5.channel.k8s.io';
  readyState = 1;
  readonly sent: Buffer[] = [];
  closed = false;
  constructor(private readonly onStdinClosed: () => void) {
    super();
  }
  send(data: Buffer): void {
    this.sent.push(Buffer.from(data));
    if (data[0] === 255 && data[1] === 0) this.onStdinClosed();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.close();
  }
  stdin(): string {
    return Buffer.concat(this.sent.filter((b) => b[0] === 0).map((b) => b.subarray(1))).toString('utf8');
  }
}

function portWith(script: Script, expectStdin: boolean) {
  const paths: string[] = [];
  const sockets: FakeSocket[] = [];
  /** client-node's frame handler of each connection: a test sends the "container's" frames through it. */
  const receivers: Array<Binary | null> = [];
  const execWebSocket = {
    async connect(path: string, _text: unknown, binary: Binary | null) {
      paths.push(path);
      if (script.handshakeError) throw script.handshakeError;
      receivers.push(binary);
      const run = () => {
        if (script.hang) return;
        for (const [channel, text] of script.frames ?? []) {
          const keep = binary?.(channel, Buffer.from(text));
          if (keep === false) {
            socket.close();
            return;
          }
        }
        if (script.dropWithoutStatus) socket.close();
      };
      const socket = new FakeSocket(run);
      sockets.push(socket);
      if (!expectStdin) setImmediate(run);
      return socket as never;
    },
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://kube.test:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return { port: createKubernetesPort(kc, { execWebSocket }), paths, sockets, receivers };
}

const success = JSON.stringify({ metadata: {}, status: 'Success' });
const exitWith = (code: number) =>
  JSON.stringify({
    metadata: {},
    status: 'Failure',
    reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });

describe('KubernetesPort.exec', () => {
  it('feeds stdin, collects stdout and stderr, and reads exit code 0 from Success', async () => {
    const { port, paths, sockets } = portWith(
      {
        frames: [
          [1, '{"rows":[]}\n'],
          [2, 'warn\n'],
          [1, '200'],
          [3, success],
        ],
      },
      true,
    );
    const result = await port.exec(
      'crate',
      'crate-0',
      'crate',
      ['curl', '-sS', '--data-binary', '@-', 'http://localhost:4200/_sql'],
      {
        stdin: '{"stmt":"SELECT 1"}',
      },
    );
    expect(result).toEqual({ exitCode: 0, stdout: '{"rows":[]}\n200', stderr: 'warn\n' });
    expect(sockets[0]?.stdin()).toBe('{"stmt":"SELECT 1"}');
    const url = new URL(paths[0]!, 'https://x');
    expect(url.pathname).toBe('/api/v1/namespaces/crate/pods/crate-0/exec');
    expect(url.searchParams.get('container')).toBe('crate');
    expect(url.searchParams.getAll('command')).toEqual([
      'curl',
      '-sS',
      '--data-binary',
      '@-',
      'http://localhost:4200/_sql',
    ]);
    expect(url.searchParams.get('stdin')).toBe('true');
    expect(url.searchParams.get('tty')).toBe('false');
  });

  it('returns a non-zero exit code from the ExitCode cause as a result, not an error', async () => {
    const { port } = portWith(
      {
        frames: [
          [2, 'curl: (7) Failed to connect'],
          [3, exitWith(7)],
        ],
      },
      false,
    );
    const result = await port.exec('crate', 'crate-0', 'crate', ['curl', 'x']);
    expect(result).toEqual({ exitCode: 7, stdout: '', stderr: 'curl: (7) Failed to connect' });
  });

  it('fails with a KubeApiError when the connection closes without a status', async () => {
    const { port } = portWith({ frames: [[1, 'partial']], dropWithoutStatus: true }, false);
    const err = await port.exec('crate', 'crate-0', 'crate', ['sleep', '1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 0, reason: 'ConnectionFailed' });
  });

  it('times out and closes the socket', async () => {
    const { port, sockets } = portWith({ hang: true }, false);
    const started = Date.now();
    const err = await port
      .exec('crate', 'crate-0', 'crate', ['sleep', '100'], { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toMatchObject({ name: 'KubeApiError', reason: 'Timeout' });
    expect(sockets[0]?.closed).toBe(true);
  });

  it('maps a refused handshake (403 on pods/exec) to KubeApiError 403', async () => {
    const { port } = portWith({ handshakeError: new Error('Unexpected server response: 403') }, false);
    const err = await port.exec('crate', 'crate-0', 'crate', ['true']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
    expect((err as Error).message).toContain('exec in pod crate/crate-0 (container crate)');
  });

  it('reports a failure status without exit code (executable not found) as an error', async () => {
    const notFound = JSON.stringify({
      metadata: {},
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: 'exec: "curl": executable file not found in $PATH',
    });
    const { port } = portWith({ frames: [[3, notFound]] }, false);
    await expect(port.exec('crate', 'crate-0', 'crate', ['curl'])).rejects.toThrow(/executable file not found/);
  });
});

/** Lets client-node's handlers run (connect, the status frame's setImmediate). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('KubernetesPort.openExec', () => {
  const open = (script: Script = { hang: true }) => {
    const world = portWith(script, true);
    const out: string[] = [];
    const err: string[] = [];
    const stream = world.port.openExec('crate', 'crate-0', 'crate', ['sh', '-c', 'loop'], {
      stdout: (c) => out.push(c),
      stderr: (c) => err.push(c),
    });
    /** Sends one frame as the container: [channel, bytes]. */
    const frame = (channel: number, bytes: Buffer | string) =>
      world.receivers[0]?.(channel, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
    return { ...world, stream, out, err, frame };
  };

  it('streams stdout and stderr as they come, decoding a character split across frames, and writes to stdin', async () => {
    const { stream, sockets, paths, out, err, frame } = open();
    await settle();
    stream.write('SELECT 1\n');
    stream.write('SELECT 2\n');
    await settle();
    expect(sockets[0]?.stdin()).toBe('SELECT 1\nSELECT 2\n');
    const euro = Buffer.from('\u20ac', 'utf8');
    frame(1, Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]));
    frame(1, Buffer.concat([euro.subarray(1), Buffer.from('b\n')]));
    frame(2, 'warn\n');
    await settle();
    expect(out.join('')).toBe('a\u20acb\n');
    expect(out).not.toContain('\ufffd');
    expect(err).toEqual(['warn\n']);
    const url = new URL(paths[0]!, 'https://x');
    expect(url.searchParams.getAll('command')).toEqual(['sh', '-c', 'loop']);
    expect(url.searchParams.get('stdin')).toBe('true');
    stream.close();
    await stream.done.catch(() => {});
  });

  it('ends with the exit code of the status frame and closes the socket', async () => {
    const { stream, sockets, frame } = open();
    await settle();
    frame(3, exitWith(3));
    await expect(stream.done).resolves.toBe(3);
    expect(sockets[0]?.closed).toBe(true);
  });

  it('ends with 0 on Success; a write after the end is not sent', async () => {
    const { stream, sockets, frame } = open();
    await settle();
    frame(3, success);
    await expect(stream.done).resolves.toBe(0);
    stream.write('late\n');
    await settle();
    expect(sockets[0]?.stdin()).toBe('');
  });

  it('close() by the client rejects done as Closed and closes the socket', async () => {
    const { stream, sockets } = open();
    await settle();
    stream.close();
    await expect(stream.done).rejects.toMatchObject({ name: 'KubeApiError', reason: 'Closed' });
    expect(sockets[0]?.closed).toBe(true);
  });

  it('close() before the socket connected closes the socket once it connects', async () => {
    const { stream, sockets } = open();
    stream.close();
    await expect(stream.done).rejects.toMatchObject({ reason: 'Closed' });
    await settle();
    expect(sockets[0]?.closed).toBe(true);
  });

  it('a socket that closes without a status rejects done as ConnectionFailed', async () => {
    const { stream, sockets } = open();
    await settle();
    sockets[0]?.close();
    const err = await stream.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 0, reason: 'ConnectionFailed' });
    expect((err as Error).message).toContain('exec session in pod crate/crate-0 (container crate)');
  });

  it('a socket error rejects done with that error mapped to a KubeApiError', async () => {
    const { stream, sockets } = open();
    await settle();
    sockets[0]?.emit('error', new Error('Unexpected server response: 502'));
    const err = await stream.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 502 });
  });

  it('maps a refused handshake (403 on pods/exec) to KubeApiError 403', async () => {
    const { stream } = open({ handshakeError: new Error('Unexpected server response: 403') });
    const err = await stream.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
  });
});
