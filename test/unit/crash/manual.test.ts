// The crash series (test/unit/crash/series.ts) for the manual strategy: 500 seeded trials by default.
import { describe, it } from 'vitest';
import { SERIES_TIMEOUT_MS, series } from './series.js';

describe('crash series: a rollout killed at random awaited steps and resumed with the same operation id', () => {
  it('manual', () => series('manual'), SERIES_TIMEOUT_MS);
});
