import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { watchPodLoop, type PodWatchSource } from '../../../shared/adapters/pod-watch.js';

function pod(uid: string, rv: string, phase = 'Running'): V1Pod {
  return { metadata: { name: 'data-hot-0', uid, resourceVersion: rv }, status: { phase } };
}

interface FakeWatch {
  resourceVersion: string;
  onEvent: (type: string, object: unknown) => void;
  onDone: (err: unknown) => void;
  aborted: boolean;
}

/** A scripted API server: `lists` answers list calls in order, each watch call is recorded for the test to drive. */
class FakeSource implements PodWatchSource {
  lists: Array<{ pod: V1Pod | null; resourceVersion: string } | Error> = [];
  listCalls = 0;
  watches: FakeWatch[] = [];
  private waiters: Array<() => void> = [];

  async list(): Promise<{ pod: V1Pod | null; resourceVersion: string }> {
    this.listCalls += 1;
    const next = this.lists.shift();
    this.wake();
    if (!next) throw new Error('no more scripted lists');
    if (next instanceof Error) throw next;
    return next;
  }

  async watch(resourceVersion: string, onEvent: FakeWatch['onEvent'], onDone: FakeWatch['onDone']) {
    const w: FakeWatch = { resourceVersion, onEvent, onDone, aborted: false };
    this.watches.push(w);
    this.wake();
    return {
      abort: () => {
        w.aborted = true;
      },
    };
  }

  /** Wait until `predicate` holds (the loop reconnects on timers). */
  async until(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 5);
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  get last(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch yet');
    return w;
  }
}

const fast = { initialBackoffMs: 5, maxBackoffMs: 20, minHealthyWatchMs: 0 };

describe('watchPodLoop', () => {
  it('delivers the current state first, then events, and watches from the list resourceVersion', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    const seen: Array<string | null> = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p ? `${p.metadata?.uid}:${p.status?.phase}` : null), fast);

    expect(seen).toEqual(['u1:Running']);
    expect(source.watches).toHaveLength(1);
    expect(source.last.resourceVersion).toBe('100');

    source.last.onEvent('MODIFIED', pod('u1', '101', 'Terminating'));
    source.last.onEvent('DELETED', pod('u1', '102'));
    source.last.onEvent('ADDED', pod('u2', '103', 'Pending'));
    expect(seen).toEqual(['u1:Running', 'u1:Terminating', null, 'u2:Pending']);
    stop();
    expect(source.last.aborted).toBe(true);
  });

  it('delivers null first when the pod does not exist', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: null, resourceVersion: '5' });
    const seen: Array<V1Pod | null> = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p), fast);
    expect(seen).toEqual([null]);
    stop();
  });

  it('re-lists on a 410 ERROR event and delivers the current state again', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    source.lists.push({ pod: pod('u2', '300'), resourceVersion: '300' });
    const seen: string[] = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p?.metadata?.uid ?? 'none'), fast);

    const first = source.last;
    first.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    expect(first.aborted).toBe(true);
    await source.until(() => source.watches.length === 2);

    expect(source.listCalls).toBe(2);
    expect(seen).toEqual(['u1', 'u2']);
    expect(source.last.resourceVersion).toBe('300');
    // The old watch's late callbacks are ignored.
    first.onEvent('MODIFIED', pod('u1', '11'));
    first.onDone(null);
    expect(seen).toEqual(['u1', 'u2']);
    stop();
  });

  it('re-lists on an HTTP 410 reported to done', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '200' });
    const seen: string[] = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p?.metadata?.uid ?? 'none'), fast);

    source.last.onDone(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).toBe(2);
    expect(source.last.resourceVersion).toBe('200');
    expect(seen).toEqual(['u1', 'u1']);
    stop();
  });

  it('resumes from the last resourceVersion when the server ends a healthy watch', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    const stop = await watchPodLoop(source, () => undefined, fast);

    source.last.onEvent('MODIFIED', pod('u1', '150'));
    source.last.onEvent('BOOKMARK', { metadata: { resourceVersion: '170' } });
    source.last.onDone(null);
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).toBe(1);
    expect(source.last.resourceVersion).toBe('170');
    stop();
  });

  it('reconnects after a dropped watch with a backoff, re-listing and delivering the current state', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    source.lists.push(new Error('connect ECONNREFUSED'));
    source.lists.push({ pod: pod('u1', '12', 'Failed'), resourceVersion: '120' });
    const errors: unknown[] = [];
    const seen: string[] = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p?.status?.phase ?? 'none'), {
      ...fast,
      onError: (e) => errors.push(e),
    });

    source.last.onDone(new Error('socket hang up'));
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).toBe(3);
    expect(errors.map(String)).toEqual(['Error: socket hang up', 'Error: connect ECONNREFUSED']);
    expect(seen).toEqual(['Running', 'Failed']);
    stop();
  });

  it('treats a non-410 ERROR event as a failure and recovers', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '101' });
    const stop = await watchPodLoop(source, () => undefined, fast);
    source.last.onEvent('ERROR', { kind: 'Status', code: 500, reason: 'InternalError' });
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).toBe(2);
    stop();
  });

  it('backs off with jitter rather than a fixed sleep, growing per consecutive failure', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    for (let i = 0; i < 3; i++) source.lists.push(new Error(`down ${i}`));
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '101' });
    const stamps: number[] = [];
    const started = Date.now();
    const stop = await watchPodLoop(source, () => undefined, {
      initialBackoffMs: 20,
      maxBackoffMs: 1_000,
      minHealthyWatchMs: 0,
      random: () => 1,
      onError: () => stamps.push(Date.now() - started),
    });
    source.last.onDone(new Error('dropped'));
    await source.until(() => source.watches.length === 2);
    // Delays 20, 40, 80, 160 ms with random() = 1: the retries spread out.
    const gaps = stamps.slice(1).map((t, i) => t - (stamps[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[2]).toBeGreaterThanOrEqual(60);
    stop();
  });

  it('rejects when the first list fails, and keeps going when the handler throws', async () => {
    const failing = new FakeSource();
    failing.lists.push(new Error('forbidden'));
    await expect(watchPodLoop(failing, () => undefined, fast)).rejects.toThrow('forbidden');

    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    let calls = 0;
    const stop = await watchPodLoop(
      source,
      () => {
        calls += 1;
        throw new Error('handler bug');
      },
      fast,
    );
    source.last.onEvent('MODIFIED', pod('u1', '11'));
    expect(calls).toBe(2);
    stop();
  });

  it('stops cleanly: no deliveries and no reconnects after stop', async () => {
    const source = new FakeSource();
    source.lists.push({ pod: pod('u1', '10'), resourceVersion: '100' });
    const seen: unknown[] = [];
    const stop = await watchPodLoop(source, (p) => seen.push(p), fast);
    const w = source.last;
    stop();
    w.onEvent('MODIFIED', pod('u1', '11'));
    w.onDone(new Error('aborted'));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(1);
    expect(source.watches).toHaveLength(1);
    expect(source.listCalls).toBe(1);
  });
});
