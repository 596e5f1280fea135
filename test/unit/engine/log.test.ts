import { describe, expect, it } from 'vitest';
import { createLogger, redactText, withFields } from '../../../shared/log.js';
import { emitEvent } from '../../../shared/events.js';
import { waitForPod, pollUntil } from '../../../shared/wait.js';
import { TimeoutError } from '../../../shared/errors.js';
import { memoryLogger, createWorld } from '../../support/fakes/world.js';

describe('createLogger', () => {
  it('writes text lines in the documented wording and honours the level', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', level: 'info', write: (l) => lines.push(l) });
    log.info('Using Kubernetes-managed decommission for pod crate-0', { pod: 'crate-0' });
    log.debug('Executing manual decommission SQL 1/5: ...');
    log.warn('careful');
    expect(lines).toEqual(['INFO: Using Kubernetes-managed decommission for pod crate-0', 'WARN: careful']);
  });

  it('writes JSON lines {ts, level, msg, ...fields}', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l), now: () => 0 });
    log.debug('step', { pod: 'crate-1', step: 'deleted' });
    expect(JSON.parse(lines[0]!)).toEqual({
      ts: '1970-01-01T00:00:00.000Z',
      level: 'debug',
      msg: 'step',
      pod: 'crate-1',
      step: 'deleted',
    });
    log.info('real', { msg: 'fake', level: 'error' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'real', level: 'info' });
  });

  it('withFields adds fields read at each call; call-site fields win', () => {
    const lines: string[] = [];
    const scope: Record<string, string> = { pod: 'crate-0', step: 'analyze' };
    const log = withFields(createLogger({ format: 'json', write: (l) => lines.push(l) }), () => ({ ...scope }));
    log.info('a');
    scope.step = 'delete';
    log.info('b', { step: 'custom' });
    log.info('c');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual(['analyze', 'custom', 'delete']);
    expect(JSON.parse(lines[0]!).pod).toBe('crate-0');
  });

  it('never writes secrets: keys, Authorization headers, URLs with passwords, password=...', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) });
    log.info('Authorization: Basic c3lzdGVtOmh1bnRlcjI= and http://system:hunter2@10.0.0.1:4200 password=hunter2', {
      password: 'hunter2',
      nested: { token: 'abc.def.ghi', headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.x.y' } },
      user: 'system',
    });
    const text = lines.join('\n');
    expect(text).not.toMatch(/hunter2|c3lzdGVtOmh1bnRlcjI=|abc\.def\.ghi|eyJhbGci/);
    expect(text).toContain('system');
    expect(redactText('token: abc123')).toBe('token: [REDACTED]');
  });
});

describe('emitEvent', () => {
  it('records an Event with a reason and swallows failures', async () => {
    const world = await createWorld({ replicas: 1, tables: [] });
    try {
      const log = memoryLogger();
      await emitEvent(
        { kube: world.kube, log },
        { kind: 'Pod', name: 'crate-0', namespace: 'crate' },
        'PodDeleted',
        'deleted',
      );
      expect(world.kube.events[0]).toMatchObject({
        reason: 'PodDeleted',
        involvedObject: { kind: 'Pod', name: 'crate-0' },
      });
      world.kube.forbid('createEvent');
      await emitEvent(
        { kube: world.kube, log },
        { kind: 'Pod', name: 'crate-0', namespace: 'crate' },
        'PodRestarted',
        'restarted',
      );
      expect(log.lines.some((l) => l.message.includes('Could not record Event PodRestarted'))).toBe(true);
    } finally {
      world.close();
    }
  });
});

describe('waitForPod / pollUntil', () => {
  it('resolves on the watched change and times out by the clock', async () => {
    const world = await createWorld({ replicas: 1, tables: [] });
    try {
      const uid = world.podUid('crate-0')!;
      const gone = waitForPod(world.kube, 'crate', 'crate-0', (p) => p === null, {
        timeoutMs: 60_000_000,
        clock: world.clock,
      });
      await world.kube.deletePod('crate', 'crate-0', { gracePeriodSeconds: 30, uid });
      expect(await gone).toBeNull();
      await expect(
        waitForPod(world.kube, 'crate', 'crate-0', () => false, {
          timeoutMs: 50,
          clock: world.clock,
          timeoutMessage: 'nope',
        }),
      ).rejects.toThrow(TimeoutError);
      const ac = new AbortController();
      const p = waitForPod(world.kube, 'crate', 'crate-0', () => false, {
        timeoutMs: 60_000_000,
        clock: world.clock,
        signal: ac.signal,
      });
      ac.abort(new Error('stop'));
      await expect(p).rejects.toThrow('stop');
      let n = 0;
      expect(
        await pollUntil(async () => (++n >= 3 ? n : undefined), {
          intervalMs: 10,
          timeoutMs: 10_000_000,
          clock: world.clock,
        }),
      ).toBe(3);
    } finally {
      world.close();
    }
  });
});
