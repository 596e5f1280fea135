import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../shared/detect/index.js';
import { crateAcceptsTimeValue } from '../../../shared/detect/duration.js';

describe('parseGoDuration (Go time.ParseDuration grammar, whole seconds)', () => {
  it.each([
    ['720s', 720],
    ['15m', 900],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['2h', 7200],
    ['7200s', 7200],
    ['1h0m30s', 3630],
    ['90m', 5400],
    ['300ms', 1], // sub-second rounds up
    ['1500ms', 2],
    ['1.000000001s', 2],
    ['999999us', 1],
    ['1000000µs', 1], // micro sign
    ['1000000μs', 1], // greek mu
    ['1000000000ns', 1],
    ['.5s', 1],
    ['1.s', 1],
    ['0', 0],
    ['+0', 0],
    ['0s', 0],
    ['+720s', 720],
    ['-720s', -720],
    ['2562047h', 9223369200], // just under Go's limit
  ])('%s -> %d', (text, seconds) => {
    expect(parseGoDuration(text)).toBe(seconds);
  });

  it.each([
    ['90', 'a number without unit (only "0" may omit it)'],
    ['', 'empty'],
    ['s', 'unit without number'],
    ['.s', 'a dot without digits'],
    ['720S', 'units are case-sensitive'],
    ['1d', 'no day unit'],
    ['1h30', 'trailing number without unit'],
    ['720 s', 'a space'],
    ['720sec', 'unknown unit'],
    ['1e3s', 'no exponent'],
    ['-', 'sign only'],
    ['2562048h', 'overflows int64 nanoseconds'],
    ['abc', 'garbage'],
  ])('%s is invalid (%s)', (text) => {
    expect(parseGoDuration(text)).toBeNull();
  });
});

describe('crateAcceptsTimeValue (what dc_util may pass verbatim to SET GLOBAL)', () => {
  it.each([
    ['720s', true],
    ['15m', true],
    ['2h', true],
    ['300ms', true],
    ['0', true],
    ['1h30m', false],
    ['1.5h', false],
    ['1000000ns', false],
    ['500us', false],
  ])('%s -> %s', (text, accepted) => {
    expect(crateAcceptsTimeValue(text)).toBe(accepted);
  });
});
