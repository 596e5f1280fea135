// The --sql-* flags: validation, the engine override, the runner argv round trip, and --local's exec default.
import { describe, expect, it } from 'vitest';
import { localTask } from '../../../plugin/run-operation.js';
import { buildTask, runnerArgsFor, sqlEndpointOverride, type RawOperationArgs } from '../../../shared/task/index.js';
import { parseRunnerArgs } from '../../../shared/task/runner-args.js';

const base = {
  operation: 'rollout' as const,
  namespace: 'crate',
  target: { kind: 'statefulset' as const, name: 'crate' },
  dryRun: false,
};

/** The SQL options a Task gets from these flag values. */
const parseSqlOptions = (raw: RawOperationArgs) => buildTask({ ...base, raw }).options.sql;

describe('--sql-* flags', () => {
  it('none given: no sql options (discovery decides, transport auto)', () => {
    expect(parseSqlOptions({})).toBeUndefined();
    expect(buildTask({ ...base, raw: {} }).options.sql).toBeUndefined();
    expect(runnerArgsFor(buildTask({ ...base, raw: {} })).some((a) => a.startsWith('--sql'))).toBe(false);
  });

  it('user + password secret with key, scheme, CA secret, insecure', () => {
    const sql = parseSqlOptions({
      'sql-user': 'admin',
      'sql-password-secret': 'admin-pw:pass',
      'sql-scheme': 'https',
      'sql-ca-secret': 'crate-ca',
      'sql-insecure': true,
    });
    expect(sql).toEqual({
      transport: 'auto',
      user: 'admin',
      passwordSecret: { name: 'admin-pw', key: 'pass' },
      scheme: 'https',
      caSecret: { name: 'crate-ca', key: 'ca.crt' },
      insecure: true,
    });
    expect(sqlEndpointOverride(sql)).toEqual({
      transport: 'auto',
      credentials: { username: 'admin', secretName: 'admin-pw', passwordKey: 'pass' },
      scheme: 'https',
      caSecret: { name: 'crate-ca', key: 'ca.crt' },
      insecureSkipTlsVerify: true,
    });
  });

  it('the password key defaults to password', () => {
    expect(parseSqlOptions({ 'sql-user': 'u', 'sql-password-secret': 's' })?.passwordSecret).toEqual({
      name: 's',
      key: 'password',
    });
  });

  it.each([
    [{ 'sql-transport': 'ssh' }, /invalid --sql-transport/],
    [{ 'sql-user': 'admin' }, /--sql-user and --sql-password-secret go together/],
    [{ 'sql-password-secret': 's' }, /go together/],
    [{ 'sql-scheme': 'ftp' }, /invalid --sql-scheme/],
    [{ 'sql-user': 'u', 'sql-password-secret': 'Bad_Name' }, /invalid --sql-password-secret/],
    [{ 'sql-ca-secret': 'ca:' }, /invalid --sql-ca-secret/],
  ])('%j is bad input', (raw, re) => {
    expect(() => parseSqlOptions(raw)).toThrow(re);
  });

  it('round trip plugin -> runner argv -> runner parse', () => {
    const task = buildTask({
      ...base,
      raw: { 'sql-transport': 'http', 'sql-user': 'admin', 'sql-password-secret': 'pw:k', 'sql-insecure': true },
    });
    const args = runnerArgsFor(task);
    expect(args).toEqual(
      expect.arrayContaining([
        '--sql-transport',
        'http',
        '--sql-user',
        'admin',
        '--sql-password-secret',
        'pw:k',
        '--sql-insecure',
      ]),
    );
    const parsed = parseRunnerArgs(args);
    const back = buildTask({
      operation: parsed.operation,
      namespace: 'crate',
      target: parsed.target,
      dryRun: false,
      raw: parsed.raw,
    });
    expect(back.options.sql).toEqual(task.options.sql);
  });

  it('--local makes auto mean exec and logs why; an explicit transport is kept', () => {
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m) };
    expect(localTask(buildTask({ ...base, raw: {} }), log).options.sql?.transport).toBe('exec');
    expect(lines.join('\n')).toMatch(/--local: SQL goes through exec/);
    expect(localTask(buildTask({ ...base, raw: { 'sql-transport': 'http' } }), log).options.sql?.transport).toBe(
      'http',
    );
    const withCreds = localTask(buildTask({ ...base, raw: { 'sql-user': 'a', 'sql-password-secret': 'b' } }), log);
    expect(withCreds.options.sql).toMatchObject({ transport: 'exec', user: 'a' });
  });
});
