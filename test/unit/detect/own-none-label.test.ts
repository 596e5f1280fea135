// Issue 9 item 1: the tool's own dc-util-min-availability=NONE (set for a restart without relocation, marked with
// crate-decommission.crate.io/dc-util-min-availability-before) is intended: detection uses the value before and
// stays kubernetes_managed. A NONE without the mark (a user's) stays the misconfiguration of the NONE rule: manual.
import { describe, expect, it } from 'vitest';
import { detectStrategy } from '../../../shared/detect/index.js';
import { withoutOwnNoneLabel } from '../../../shared/min-availability-label.js';
import { statefulSet } from './builders.js';

const dc = (...flags: string[]) => ['./dc_util-linux-amd64', '-timeout', '720s', ...flags];
const MARK = 'crate-decommission.crate.io/dc-util-min-availability-before';

describe("the tool's own dc-util-min-availability=NONE", () => {
  it.each<[string, string[], Record<string, string>, string, string, RegExp]>([
    [
      'own NONE, no label before, flag PRIMARIES',
      dc('-min-availability', 'PRIMARIES'),
      { 'dc-util-min-availability': 'NONE', [MARK]: 'unset' },
      'kubernetes_managed',
      'PRIMARIES',
      /set by crate-decommission for a restart without relocation .*detected with the value before \(no label\)/,
    ],
    [
      'own NONE, label FULL before, flag PRIMARIES',
      dc('-min-availability', 'PRIMARIES'),
      { 'dc-util-min-availability': 'NONE', [MARK]: 'FULL' },
      'kubernetes_managed',
      'FULL',
      /detected with the value before \(FULL\)/,
    ],
    [
      "a user's NONE (no mark) stays a misconfiguration",
      dc('-min-availability', 'PRIMARIES'),
      { 'dc-util-min-availability': 'NONE' },
      'manual',
      'NONE',
      /effective min_availability is NONE \(label dc-util-min-availability=NONE\)/,
    ],
    [
      'own NONE over a flag NONE: still no drain',
      dc('-min-availability', 'NONE'),
      { 'dc-util-min-availability': 'NONE', [MARK]: 'unset' },
      'manual',
      'NONE',
      /effective min_availability is NONE \(-min-availability NONE\)/,
    ],
    [
      'a mark but the label changed since (PRIMARIES): the label as it is',
      dc(),
      { 'dc-util-min-availability': 'PRIMARIES', [MARK]: 'unset' },
      'kubernetes_managed',
      'PRIMARIES',
      /label dc-util-min-availability=PRIMARIES overrides/,
    ],
  ])('%s', (_title, preStop, labels, strategy, min, reason) => {
    const d = detectStrategy(statefulSet({ preStop, labels }));
    expect(d.strategy).toBe(strategy);
    expect(d.minAvailability).toBe(min);
    expect(d.reasons.join('\n')).toMatch(reason);
  });

  it('withoutOwnNoneLabel puts the value before in place, and leaves other labels alone', () => {
    expect(withoutOwnNoneLabel({ a: 'b', 'dc-util-min-availability': 'NONE', [MARK]: 'unset' }).labels).toEqual({
      a: 'b',
      [MARK]: 'unset',
    });
    expect(
      withoutOwnNoneLabel({ 'dc-util-min-availability': 'NONE', [MARK]: 'PRIMARIES' }).labels[
        'dc-util-min-availability'
      ],
    ).toBe('PRIMARIES');
    expect(withoutOwnNoneLabel({ 'dc-util-min-availability': 'NONE' })).toEqual({
      labels: { 'dc-util-min-availability': 'NONE' },
      note: null,
    });
  });
});
