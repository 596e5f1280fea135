// The crash series of issue 8 ("A crash at any moment"), shared by one test file per strategy (vitest runs them in
// parallel workers). A randomized crash series. Each trial rolls a 3-node cluster (manual strategy, or
// dc_util in preStop), with or without client traffic, with or without a node that restarts in place quickly after
// it exits, with or without a slow drain; the engine is killed like a SIGKILL at 1-3 random awaited port calls and a
// fresh engine with the same operation id (a Job retry) resumes on the same world. After the last run: the rollout
// succeeded, no node process was decommissioned twice, never two nodes out at once, no primary unavailable, every
// pod re-created exactly once, allocation (and, manual, graceful_stop) back, the Lease released.
//
// CRASH_TRIALS=<n> changes the number of trials per strategy (default 500), CRASH_SEED_BASE=<n> shifts the seeds,
// CRASH_LOG=1 prints the world's log of each failed trial; CRASH_SEED=<strategy>:<seed> replays one
// trial (the seed a failure prints). Replays are close, not exact: the fakes run on a scaled real-time clock, so the
// world's timing around the same kill point can differ a little.
import { expect } from 'vitest';
import { KILL_RANGE, runTrial, setupOf, type CrashStrategy, type TrialOutcome } from './harness.js';

/** Each strategy's series gets this much time (ms); 500 trials take about a minute on 2 shared cores. */
export const SERIES_TIMEOUT_MS = 600_000;

const TRIALS = Number(process.env.CRASH_TRIALS ?? 500);
/** CRASH_SEED_BASE=<n> runs seeds n+1..n+TRIALS instead of 1..TRIALS (a longer search off CI). */
const SEED_BASE = Number(process.env.CRASH_SEED_BASE ?? 0);
const CONCURRENCY = Number(process.env.CRASH_CONCURRENCY ?? 20);
const REPLAY = /^(manual|kubernetes_managed):(\d+)$/.exec(process.env.CRASH_SEED ?? '');

/** One uncrashed rollout first: it must pass, and KILL_RANGE must cover most of its port calls. */
async function calibrate(strategy: CrashStrategy): Promise<number> {
  const o = await runTrial({ strategy, seed: 0, traffic: false, restartInPlace: false, slowDrain: false, killAt: [] });
  expect(o.problems).toEqual([]);
  expect(KILL_RANGE[strategy]).toBeGreaterThan(o.callsPerRun[0]! * 0.6);
  return KILL_RANGE[strategy];
}

export async function series(strategy: CrashStrategy): Promise<void> {
  const maxKillAt = await calibrate(strategy);
  const seeds = REPLAY
    ? REPLAY[1] === strategy
      ? [Number(REPLAY[2])]
      : []
    : Array.from({ length: TRIALS }, (_, i) => SEED_BASE + i + 1);
  const failures: string[] = [];
  const outcomes: TrialOutcome[] = [];
  // A pool of CONCURRENCY trials in flight (worlds mostly wait on timers).
  let next = 0;
  const worker = async () => {
    while (next < seeds.length) {
      const seed = seeds[next++]!;
      const o = await runTrial(setupOf(strategy, seed, maxKillAt));
      outcomes.push(o);
      if (o.log) console.log(o.log);
      if (o.problems.length) {
        const s = o.setup;
        failures.push(
          `seed ${s.seed} (replay: CRASH_SEED=${strategy}:${s.seed}; killAt ${s.killAt.join(',')}, calls ${o.callsPerRun.join(',')}, traffic ${s.traffic}, restartInPlace ${s.restartInPlace}, slowDrain ${s.slowDrain}): ${o.problems.join('; ')}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, seeds.length) }, worker));
  const crashes = outcomes.reduce((n, o) => n + o.crashes, 0);
  console.log(
    `crash series ${strategy}: ${outcomes.length} trials, ${crashes} crashes (kill points 1..${maxKillAt}), ${failures.length} failed`,
  );
  if (failures.length) console.log(failures.join('\n'));
  expect(failures).toEqual([]);
  if (!REPLAY) expect(crashes).toBeGreaterThanOrEqual(outcomes.length);
}
