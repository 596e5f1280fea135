// The Lease's progress annotation: one zod schema (OperationProgress) that its writers check against and its readers
// parse with. A Lease written by an older version (the first engine wrote only operationId, done, current with
// restartCount/sentAt, allocationSet) is still read, and resumed from, field by field.
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import {
  ANNOTATION_OPERATION,
  ANNOTATION_PROGRESS,
  ClusterLease,
  OperationProgress,
  leaseName,
  parseProgress,
} from '../../../shared/lease.js';
import { world } from './helpers.js';

const ns = 'crate';

/** The progress annotation as the first engine version wrote it (no graceful-stop values, no labels, no snapshot). */
const SEED_PROGRESS = JSON.stringify({
  operationId: 'op-1',
  done: { 'crate-0': 'uid-0-new' },
  current: {
    pod: 'crate-1',
    oldUid: 'uid-1',
    nodeName: 'crate-1',
    step: 'decommission-sent',
    restartCount: 0,
    sentAt: 1234,
  },
  allocationSet: 'primaries',
});

describe('parseProgress', () => {
  it('reads a Lease written by an older version: what it has is kept, what it lacks is empty', () => {
    expect(parseProgress(SEED_PROGRESS, 'op-1')).toEqual({
      ...(JSON.parse(SEED_PROGRESS) as object),
      gracefulStopBefore: null,
      minAvailabilityLabels: null,
    });
  });

  it('a field in a shape it does not know is empty; the others are kept', () => {
    const text = JSON.stringify({
      done: { 'crate-0': 'uid-0-new' },
      current: { pod: 'crate-1', oldUid: 'uid-1', nodeName: null, step: 'some-future-step' },
      allocationSet: 'primaries',
      gracefulStopBefore: { timeout: '7200s' },
      minAvailabilityLabels: {},
    });
    expect(parseProgress(text, 'op-1')).toEqual({
      operationId: 'op-1',
      done: { 'crate-0': 'uid-0-new' },
      current: null,
      allocationSet: 'primaries',
      gracefulStopBefore: { timeout: '7200s', force: null, minAvailability: null },
      minAvailabilityLabels: null,
    });
  });

  it("a current pod at the 'allocation-set' step (declared by earlier versions) resumes as 'started', not dropped", () => {
    const text = JSON.stringify({
      done: {},
      current: { pod: 'crate-1', oldUid: 'uid-1', nodeName: 'crate-1', step: 'allocation-set' },
      allocationSet: 'primaries',
    });
    expect(parseProgress(text, 'op-1').current).toEqual({
      pod: 'crate-1',
      oldUid: 'uid-1',
      nodeName: 'crate-1',
      step: 'started',
    });
  });

  it('the caller names whose progress it is; absent, not JSON or not an object is no progress', () => {
    expect(parseProgress(JSON.stringify({ operationId: 'someone-else', done: { a: 'b' } }), 'op-1')).toMatchObject({
      operationId: 'op-1',
      done: { a: 'b' },
    });
    for (const text of [undefined, '', 'not json', '[1,2]', 'null', '"text"']) {
      expect(parseProgress(text, 'op-1')).toEqual({
        operationId: 'op-1',
        done: {},
        current: null,
        allocationSet: null,
        gracefulStopBefore: null,
        minAvailabilityLabels: null,
      });
    }
  });
});

describe('the Lease written by an older version', () => {
  it('is resumed by the same operation, and rewritten in the full schema with its progress kept', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const at = new Date(w.clock.now() - 3_700_000);
    await w.kube.createLease(ns, {
      metadata: {
        name: leaseName(w.clusterName),
        annotations: { [ANNOTATION_OPERATION]: 'op-1', [ANNOTATION_PROGRESS]: SEED_PROGRESS },
      },
      spec: { holderIdentity: 'crashed-runner', leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
    });
    const l = await ClusterLease.acquire(w.deps(), { namespace: ns, clusterName: w.clusterName, operationId: 'op-1' });
    expect(l.resumed).toBe(true);
    expect(l.progress.done).toEqual({ 'crate-0': 'uid-0-new' });
    expect(l.progress.current).toMatchObject({ pod: 'crate-1', step: 'decommission-sent', restartCount: 0 });
    expect(l.progress.allocationSet).toBe('primaries');
    const written = w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.metadata!.annotations![
      ANNOTATION_PROGRESS
    ]!;
    // Strict parse: every field of this version is there, the older run's progress unchanged.
    expect(OperationProgress.parse(JSON.parse(written))).toEqual(l.progress);
    await l.release();
  });
});

describe('the writers', () => {
  it('a save the schema refuses fails, and neither the Lease nor the progress in memory takes it', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const l = await ClusterLease.acquire(w.deps(), { namespace: ns, clusterName: w.clusterName, operationId: 'op-2' });
    await l.save({ done: { 'crate-0': 'uid-0-new' } });
    const before = w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.metadata!.annotations![ANNOTATION_PROGRESS];
    const bad = { pod: 'crate-0', oldUid: 'uid-0', nodeName: null, step: 'half-done' };
    await expect(l.save({ current: bad as never })).rejects.toBeInstanceOf(ZodError);
    expect(l.progress.current).toBeNull();
    expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.metadata!.annotations![ANNOTATION_PROGRESS]).toBe(
      before,
    );
    // Renewals and the next saves go on.
    await l.save({ allocationSet: 'primaries' });
    expect(parseProgress(before, 'op-2').done).toEqual({ 'crate-0': 'uid-0-new' });
    await l.release();
  });
});
