// The crash series (test/unit/crash/series.ts) for the kubernetes_managed strategy (dc_util in preStop): 500 seeded trials by default.
import { describe, it } from 'vitest';
import { SERIES_TIMEOUT_MS, series } from './series.js';

describe('crash series: a rollout killed at random awaited steps and resumed with the same operation id', () => {
  it('kubernetes_managed', () => series('kubernetes_managed'), SERIES_TIMEOUT_MS);
});
