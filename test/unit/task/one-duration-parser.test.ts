// One duration parser (shared/duration.ts): the front ends' duration flags (parseDurationSeconds) and the adapters'
// --request-timeout (parseRequestTimeout) read every text alike, so what the plugin's flag check lets through is what
// the API client then uses.
import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../../shared/task/index.js';
import { parseRequestTimeout } from '../../../shared/adapters/kubeconfig.js';
import { parseDurationMs } from '../../../shared/duration.js';

const VALID: Array<[string, number]> = [
  ['0', 0],
  ['0s', 0],
  ['30', 30_000],
  ['1.5', 1_500],
  ['250ms', 250],
  ['1m30s', 90_000],
  ['1.5h', 5_400_000],
  ['.5s', 500],
  ['1500us', 1.5],
  ['2h45m10s', 9_910_000],
];
const INVALID = ['soon', '30S', '1d', '-5s', '1h30', ' ', 'm'];

describe('one duration parser for flags and --request-timeout', () => {
  it.each(VALID)('%s is %d ms for both', (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 6);
    expect(parseRequestTimeout(text)).toBe(ms === 0 ? null : Math.round(ms));
    expect(
      parseDurationSeconds(text, '--request-timeout', { allowZero: true, allowFraction: true }) * 1000,
    ).toBeCloseTo(ms, 6);
  });

  it.each(INVALID)('%j is refused by both', (text) => {
    expect(() => parseRequestTimeout(text)).toThrow(/--request-timeout/);
    expect(() => parseDurationSeconds(text, '--request-timeout', { allowZero: true, allowFraction: true })).toThrow(
      /--request-timeout/,
    );
  });

  it("beyond Go's range is out of range for a flag, not a syntax error", () => {
    expect(parseDurationMs('99999999h')).toBe(99_999_999 * 3_600_000);
    expect(() => parseDurationSeconds('99999999h', '--health-timeout')).toThrow(/out of range/);
  });
});
