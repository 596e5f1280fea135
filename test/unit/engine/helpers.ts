// Shared set-up for engine tests: a started World and fast health-gate settings.
import { afterEach } from 'vitest';
import { createWorld, type World, type WorldOptions } from '../../support/fakes/world.js';

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()!.close();
});

export async function world(options: WorldOptions = {}): Promise<World> {
  const w = await createWorld(options);
  worlds.push(w);
  return w;
}

/**
 * Health gate settings for tests. Engine time runs 1000x faster than real time, so the upper
 * bounds are generous (3000 s = 3 s real) to stay green on a loaded machine; they cost nothing
 * when things go well.
 */
export const fastGate = {
  healthConsecutive: 3,
  healthIntervalSeconds: 2,
  healthTimeout: 3000,
  podReadyTimeout: 3000,
} as const;

export function sqlOf(w: World): string[] {
  return w.crate.statements.map((s) => s.stmt);
}

export function writesOf(w: World): string[] {
  return w.crate.writes.map((s) => s.stmt.replace(/\s+/g, ' '));
}
