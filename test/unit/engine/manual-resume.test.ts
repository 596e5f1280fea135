// The manual strategy's resume decision (shared/manual-resume.ts), as a table: for a crash at each step the Lease
// progress records (none, started, decommission-sent, deleting, deleted; `done` pods are skipped before this
// decision, see lease.test.ts) and each thing the cluster may say then, the observations asked and the step out.
// The kill-point e2e test (test/e2e/kill-points.e2e.ts) kills the runner at these same steps.
import { describe, expect, it } from 'vitest';
import { nextManualStep, type ManualResumeState, type ManualStep } from '../../../shared/manual-resume.js';
import type { ProgressStep } from '../../../shared/lease.js';

const OLD = 'uid-old';
const NEW = 'uid-new';

interface Case {
  name: string;
  step: ProgressStep | null;
  /** The pod now: same uid as recorded, same uid and deleting, or re-created (new uid). */
  pod: 'same' | 'deleting' | 'recreated';
  exited?: boolean;
  answers?: boolean;
  inCluster?: boolean;
  asked: Array<'nodeAnswers' | 'nodeInCluster'>;
  out: Exclude<ManualStep, { kind: 'observe' }>;
}

/** Runs the decision as decommission.ts does: answer each observation asked, until a step comes out. */
function decide(c: Case): { asked: string[]; out: ManualStep } {
  const state: ManualResumeState = {
    progress: c.step ? { step: c.step, oldUid: OLD } : null,
    pod: { uid: c.pod === 'recreated' ? NEW : OLD, deleting: c.pod === 'deleting' },
    exitedSinceRecorded: c.exited ?? false,
  };
  const asked: string[] = [];
  for (let i = 0; i < 5; i++) {
    const out = nextManualStep(state);
    if (out.kind !== 'observe') return { asked, out };
    asked.push(out.what);
    if (out.what === 'nodeAnswers') state.nodeAnswers = c.answers ?? true;
    else state.nodeInCluster = c.inCluster ?? true;
  }
  throw new Error(`no step after 5 observations: ${asked.join(', ')}`);
}

const CASES: Case[] = [
  // A fresh start (no progress for this pod).
  { name: 'fresh, node in the cluster', step: null, pod: 'same', asked: ['nodeInCluster'], out: drain(null) },
  {
    name: 'fresh, node not in the cluster (unready pod, nothing to drain)',
    step: null,
    pod: 'same',
    inCluster: false,
    asked: ['nodeInCluster'],
    out: { kind: 'delete-only', redrain: null },
  },
  // Crash after `started` (before or between the SETs; the DECOMMISSION not sent yet).
  { name: 'started, node in the cluster', step: 'started', pod: 'same', asked: ['nodeInCluster'], out: drain(null) },
  {
    name: 'started, node not in the cluster',
    step: 'started',
    pod: 'same',
    inCluster: false,
    asked: ['nodeInCluster'],
    out: { kind: 'delete-only', redrain: null },
  },
  // Crash after `decommission-sent`.
  {
    name: 'decommission-sent, node draining (does not answer): followed, not sent again',
    step: 'decommission-sent',
    pod: 'same',
    answers: false,
    asked: ['nodeAnswers'],
    out: { kind: 'follow-drain' },
  },
  {
    name: 'decommission-sent, node answers and has not exited: the statement never reached it',
    step: 'decommission-sent',
    pod: 'same',
    answers: true,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: drain('not-draining'),
  },
  {
    name: 'decommission-sent, node exited, restarted in place and answers: drained again',
    step: 'decommission-sent',
    pod: 'same',
    exited: true,
    answers: true,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: drain('restarted-in-place'),
  },
  {
    name: 'decommission-sent, node exited and is down (no answer): followed to the delete',
    step: 'decommission-sent',
    pod: 'same',
    exited: true,
    answers: false,
    asked: ['nodeAnswers'],
    out: { kind: 'follow-drain' },
  },
  {
    name: 'decommission-sent, node answers but is not in sys.nodes: only deleted',
    step: 'decommission-sent',
    pod: 'same',
    answers: true,
    inCluster: false,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: { kind: 'delete-only', redrain: 'not-draining' },
  },
  {
    name: 'decommission-sent, the pod was re-created meanwhile',
    step: 'decommission-sent',
    pod: 'recreated',
    asked: [],
    out: { kind: 'recorded-recreated' },
  },
  // Crash after `deleting` (the delete may or may not have gone out).
  {
    name: 'deleting, delete never sent, node down: the delete is sent',
    step: 'deleting',
    pod: 'same',
    answers: false,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: { kind: 'follow-delete', sendDelete: true },
  },
  {
    name: 'deleting, delete never sent, container restarted in place and answers: drained again',
    step: 'deleting',
    pod: 'same',
    answers: true,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: drain('restarted-before-delete'),
  },
  {
    name: 'deleting, the pod is being deleted: followed, not deleted again',
    step: 'deleting',
    pod: 'deleting',
    asked: ['nodeInCluster'],
    out: { kind: 'follow-delete', sendDelete: false },
  },
  {
    name: 'deleting, the pod is being deleted and its node left sys.nodes',
    step: 'deleting',
    pod: 'deleting',
    inCluster: false,
    asked: ['nodeInCluster'],
    out: { kind: 'delete-only', redrain: null },
  },
  {
    name: 'deleting, delete never sent, node down and not in sys.nodes',
    step: 'deleting',
    pod: 'same',
    answers: false,
    inCluster: false,
    asked: ['nodeAnswers', 'nodeInCluster'],
    out: { kind: 'delete-only', redrain: null },
  },
  {
    name: 'deleting, the pod was re-created meanwhile',
    step: 'deleting',
    pod: 'recreated',
    asked: [],
    out: { kind: 'recorded-recreated' },
  },
  // Crash after `deleted` (the old pod is gone: the pod found now is the re-created one).
  {
    name: 'deleted, the pod was re-created',
    step: 'deleted',
    pod: 'recreated',
    asked: [],
    out: { kind: 'recorded-recreated' },
  },
];

function drain(redrain: 'not-draining' | 'restarted-in-place' | 'restarted-before-delete' | null): Case['out'] {
  return { kind: 'drain', redrain };
}

describe('manual strategy resume: the next step from the Lease progress and the cluster', () => {
  it.each(CASES)('$name', (c) => {
    const { asked, out } = decide(c);
    expect(asked).toEqual(c.asked);
    expect(out).toEqual(c.out);
  });

  // Every combination the state can take, whether the table names it or not.
  const steps: Array<ProgressStep | null> = [null, 'started', 'decommission-sent', 'deleting', 'deleted'];
  const all: Case[] = [];
  for (const step of steps)
    for (const pod of ['same', 'deleting', 'recreated'] as const)
      for (const exited of [false, true])
        for (const answers of [false, true])
          for (const inCluster of [false, true])
            if (step !== null || pod !== 'recreated')
              all.push({ name: '', step, pod, exited, answers, inCluster, asked: [], out: drain(null) });

  it('every combination ends in a step after at most one question of each kind', () => {
    for (const c of all) {
      const { asked } = decide(c);
      expect(new Set(asked).size, JSON.stringify(c)).toBe(asked.length);
    }
  });

  it('never a second DECOMMISSION to a draining node, never a drain of a pod whose delete was decided while its node is down', () => {
    for (const c of all) {
      const { out } = decide(c);
      if (c.pod === 'recreated') expect(out, JSON.stringify(c)).toEqual({ kind: 'recorded-recreated' });
      if (c.step === 'decommission-sent' && !c.answers && c.pod !== 'recreated')
        expect(out.kind, JSON.stringify(c)).toBe('follow-drain');
      if (c.step === 'deleting' && !c.answers) expect(out.kind, JSON.stringify(c)).not.toBe('drain');
    }
  });

  it('the same state gives the same step (pure)', () => {
    for (const c of all) expect(decide(c)).toEqual(decide(c));
  });
});
