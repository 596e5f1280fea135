// Issue 8 item 2: an effective min_availability of NONE moves nothing: dc_util's "decommission" is then no drain.
import { describe, expect, it } from 'vitest';
import { detectStrategy } from '../../../shared/detect/index.js';
import { minAvailabilityNoneBlocker } from '../../../shared/detect/rules.js';
import { statefulSet } from './builders.js';

const dc = (...flags: string[]) => ['./dc_util-linux-amd64', '-timeout', '720s', ...flags];

describe('effective min_availability NONE -> manual', () => {
  it.each<[string, string[], Record<string, string>, string, RegExp]>([
    [
      '-min-availability NONE',
      dc('-min-availability', 'NONE'),
      {},
      'manual',
      /effective min_availability is NONE \(-min-availability NONE\)/,
    ],
    [
      '--min-availability=none',
      dc('--min-availability=none'),
      {},
      'manual',
      /effective min_availability is NONE \(--min-availability=none\)/,
    ],
    [
      'a typo CrateDB reads as none (PRIMARY)',
      dc('-min-availability', 'PRIMARY'),
      {},
      'manual',
      /\(-min-availability PRIMARY, which CrateDB reads as none\)/,
    ],
    [
      'label NONE over the flag PRIMARIES',
      dc('-min-availability', 'PRIMARIES'),
      { 'dc-util-min-availability': 'NONE' },
      'manual',
      /\(label dc-util-min-availability=NONE\)/,
    ],
    [
      'a flag that cannot be computed',
      ['/bin/sh', '-c', './dc_util -timeout 720s -min-availability $MIN'],
      {},
      'manual',
      /cannot be computed from the manifest: it may be NONE/,
    ],
    [
      'label none (lower case: dc_util ignores it), flag PRIMARIES',
      dc('-min-availability', 'PRIMARIES'),
      { 'dc-util-min-availability': 'none' },
      'kubernetes_managed',
      /is not NONE, PRIMARIES or FULL \(dc_util compares it exactly\): ignored/,
    ],
    [
      'label PRIMARIES over the flag NONE',
      dc('-min-availability', 'NONE'),
      { 'dc-util-min-availability': 'PRIMARIES' },
      'kubernetes_managed',
      /overrides/,
    ],
  ])('%s', (_title, preStop, labels, strategy, reason) => {
    const d = detectStrategy(statefulSet({ preStop, labels }));
    expect(d.strategy).toBe(strategy);
    expect(d.reasons.join('\n')).toMatch(reason);
    if (strategy === 'manual') {
      expect(d.dcUtilWillNotDecommission).toBe(true);
      expect(d.deleteGracePeriodSeconds).toBe(30);
    }
  });

  it('the rule is one named function (issue 9 adds its exception there)', () => {
    expect(minAvailabilityNoneBlocker('NONE', 'x')).toMatch(/moves no shard/);
    expect(minAvailabilityNoneBlocker('PRIMARIES', 'x')).toBeNull();
    expect(minAvailabilityNoneBlocker('FULL', 'x')).toBeNull();
  });
});
