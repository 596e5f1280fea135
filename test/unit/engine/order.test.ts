// byCodeUnits (shared/order.ts) orders Kubernetes names as localeCompare did, without loading ICU's collation.
import { describe, expect, it } from 'vitest';
import { byCodeUnits } from '../../../shared/order.js';

describe('byCodeUnits', () => {
  it('orders Kubernetes names (lowercase letters, digits, "-" and ".") as localeCompare does', () => {
    const names = [
      'crate-data-hot-10',
      'crate-data-hot-2',
      'crate-data-hot-1',
      'crate-data-cold-0',
      'crate-master-0',
      'crate.a-0',
      'crate-a.0',
      'crate0',
      'a',
      'a-b',
      'a.b',
      'ab',
      'a9',
      'z',
      '1-x',
    ];
    const sign = (n: number) => Math.sign(n);
    for (const a of names)
      for (const b of names) expect([a, b, sign(byCodeUnits(a, b))]).toEqual([a, b, sign(a.localeCompare(b))]);
    expect([...names].sort(byCodeUnits)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('is 0 only for equal strings', () => {
    expect(byCodeUnits('x', 'x')).toBe(0);
    expect(byCodeUnits('x', 'y')).toBe(-1);
    expect(byCodeUnits('y', 'x')).toBe(1);
  });
});
