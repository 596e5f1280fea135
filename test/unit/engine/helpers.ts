// Shared set-up for engine tests: a started World and fast health-gate settings.
import { afterEach } from 'vitest';
import { createWorld, type World, type WorldOptions } from '../fakes/world.js';

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()!.close();
});

export async function world(options: WorldOptions = {}): Promise<World> {
  const w = await createWorld(options);
  worlds.push(w);
  return w;
}

/** Health gate settings that keep tests fast (engine time runs 1000x faster). */
export const fastGate = { healthConsecutive: 3, healthIntervalSeconds: 2, healthTimeout: 300, podReadyTimeout: 300 } as const;

export function sqlOf(w: World): string[] {
  return w.crate.statements.map((s) => s.stmt);
}

export function writesOf(w: World): string[] {
  return w.crate.writes.map((s) => s.stmt.replace(/\s+/g, ' '));
}
