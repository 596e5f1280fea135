// The runner reads --dry-run as the plugin does (issue 8 item 14): a Job or CronJob written by hand with
// `--dry-run=client` must not become a real run; a bad value is bad input.
import { describe, expect, it } from 'vitest';
import { parseRunnerArgs } from '../../../shared/task/runner-args.js';

describe('runner --dry-run', () => {
  it.each([
    [[], false],
    [['--dry-run'], true],
    [['--dry-run=client'], true],
    [['--dry-run=server'], true],
    [['--dry-run=none'], false],
  ])('%j -> dry run %s', (flags, dry) => {
    expect(parseRunnerArgs(['rollout', 'sts/crate', '--namespace', 'crate', ...flags]).dryRun).toBe(dry);
  });

  it('the bare flag keeps the target', () => {
    const p = parseRunnerArgs(['rollout', '--dry-run', 'sts/crate', '--namespace', 'crate']);
    expect(p.dryRun).toBe(true);
    expect(p.target).toEqual({ kind: 'statefulset', name: 'crate' });
  });

  it.each(['1', 'yes', 'true'])('--dry-run=%s is bad input', (v) => {
    expect(() => parseRunnerArgs(['rollout', 'sts/crate', '--namespace', 'crate', `--dry-run=${v}`])).toThrow(
      /--dry-run/,
    );
  });
});
