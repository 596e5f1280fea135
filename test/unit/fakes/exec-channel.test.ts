// World SQL over exec runs the real exec adapters against a fake curl in the container: the session adapter
// (shared/adapters/sql-exec-session.ts, tested in test/unit/adapters/sql-exec-session.test.ts) and, here, its fallback
// for a container without `sh`, one exec per statement (shared/adapters/sql-exec.ts): the fake reads the adapter's own
// argv and stdin and answers as curl does, so the adapter's parsing is what these tests exercise.
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_SCRIPT } from '../../../shared/adapters/sql-exec-session.js';
import { curlCommand } from '../../../shared/adapters/sql-exec.js';
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import type { FakeCrateCluster } from '../../support/fakes/crate.js';
import { expandWords, fakeCurl, parseCurlArgv, scriptCurl } from '../../support/fakes/sql.js';
import { createWorld as createSessionWorld, type World } from '../../support/fakes/world.js';
import { VirtualClock } from '../../support/virtual-clock.js';

/** The curl argv of the one-exec-per-statement adapter (sql-exec.ts) for this URL and --max-time. */
const oneShotCurl = (url: string, maxTimeSeconds: number, insecure: boolean) =>
  curlCommand({
    maxTimeSeconds: String(maxTimeSeconds),
    writeOut: '\n%{http_code}',
    insecure: insecure ? ['-k'] : [],
    url,
  });

let world: World | undefined;
afterEach(() => world?.close());

/** A World whose CrateDB containers have no `sh`: the exec session cannot start, every statement is its own exec. */
async function createWorld(...args: Parameters<typeof createSessionWorld>): Promise<World> {
  const w = await createSessionWorld(...args);
  w.kube.hooks.execSession = (session) => session.exit(127);
  return w;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the query to fail');
}

describe('World exec SQL: the real adapter over a fake exec channel', () => {
  it('the container receives the adapter curl argv and the statement on stdin; the answer is parsed', async () => {
    world = await createWorld({ replicas: 2 });
    const pod = world.clusterModel().pods[1]!;
    const t = world.sql.exec(world.namespace, pod, world.endpoint());
    const stmt = `SELECT count(*) FROM sys.shards WHERE node['name'] = ?`;
    const res = await t.query(stmt, ['data-hot-1']);
    expect(res.cols).toEqual(['count(*)']);
    expect(res.rows).toEqual([[world.crate.shards.filter((s) => s.node === 'data-hot-1').length]]);
    expect(res.rowcount).toBe(1);
    const call = world.kube.execs.at(-1)!;
    expect(call).toMatchObject({ namespace: 'crate', pod: pod.name, container: 'crate' });
    expect(call.command).toEqual(oneShotCurl('http://localhost:4200/_sql', 30, false));
    expect(JSON.parse(call.stdin!)).toEqual({ stmt, args: ['data-hot-1'] });
    expect(t.description).toBe(`exec crate/${pod.name}:crate http://localhost:4200 as crate`);
  });

  it('a CrateDB error comes back as the adapter reads it: status, code, message', async () => {
    world = await createWorld({ replicas: 2 });
    const t = world.sql.exec(world.namespace, world.clusterModel().pods[0]!, world.endpoint());
    const err = await rejection(t.query('SELEC 1'));
    expect(err).toBeInstanceOf(CrateSqlError);
    expect(err).toMatchObject({ httpStatus: 400, code: 4000 });
  });

  it('a stopped node is curl exit 7, which the adapter reports as unreachable', async () => {
    world = await createWorld({ replicas: 2 });
    const pod = world.clusterModel().pods[0]!;
    world.crate.stopNode(world.nodeName(pod.name));
    const err = await rejection(world.sql.exec(world.namespace, pod, world.endpoint()).query('SELECT 1'));
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect(String((err as Error).message)).toMatch(
      /^cannot reach CrateDB at http:\/\/localhost:4200 in pod crate\/crate-0 .*curl: \(7\)/,
    );
  });

  it('https: the adapter sends -k and reaches an https node; plain http to it is curl exit 52', async () => {
    world = await createWorld({ replicas: 2, crate: { httpScheme: 'https' } });
    const pod = world.clusterModel().pods[0]!;
    const https = world.sql.exec(world.namespace, pod, { ...world.endpoint(), scheme: 'https' });
    expect((await https.query('SELECT 1')).rows).toEqual([[1]]);
    expect(world.kube.execs.at(-1)!.command).toContain('-k');
    const err = await rejection(world.sql.exec(world.namespace, pod, world.endpoint()).query('SELECT 1'));
    expect(String((err as Error).message)).toMatch(/connection to CrateDB .* dropped .*curl: \(52\)/);
  });
});

describe('the fake curl', () => {
  const stdin = JSON.stringify({ stmt: 'SELECT 1' });
  const call = (command: string[]) => ({ namespace: 'ns', pod: 'p', container: 'crate', command, stdin });
  const hanging = {
    query: () => new Promise(() => {}),
    options: { httpScheme: 'http' },
  } as unknown as FakeCrateCluster;

  it('parses the options the adapter sends; an unknown option is exit 2', () => {
    expect(parseCurlArgv(oneShotCurl('https://localhost:4200/_sql', 7, true))).toMatchObject({
      url: 'https://localhost:4200/_sql',
      method: 'POST',
      bodyFromStdin: true,
      writeOut: '\n%{http_code}',
      maxTimeSeconds: 7,
      insecure: true,
    });
    expect(parseCurlArgv(['curl', '--frobnicate', 'http://localhost:4200/_sql'])).toEqual({
      exitCode: 2,
      stderr: 'curl: option --frobnicate: is unknown',
    });
  });

  it('--max-time passed is exit 28 (the adapter: a timed-out connection error)', async () => {
    const clock = new VirtualClock();
    const res = await clock.run(
      fakeCurl(call(oneShotCurl('http://localhost:4200/_sql', 5, false)), hanging, clock, () => ({
        name: 'n',
        state: 'up',
      })),
    );
    expect(res).toEqual({
      exitCode: 28,
      stdout: '',
      stderr: 'curl: (28) Operation timed out after 5000 milliseconds with 0 bytes received',
    });
    expect(clock.now() - Date.parse('2026-01-01T00:00:00Z')).toBe(5000);
  });
});

describe("the fake shell loop's curl", () => {
  const curl = scriptCurl(SESSION_SCRIPT)!;
  const line = (t: string, b: string, u: string, k: string) => expandWords(curl, { t, b, u, k });

  it("is the argv sh makes of the script: curlCommand with the line's max time, the boundary and -k over HTTPS", () => {
    expect(line('7', 'B0', 'https://localhost:4200/_sql', '-k')).toEqual(
      curlCommand({
        maxTimeSeconds: '7',
        writeOut: '\\nB0 %{http_code} %{size_download}\\n',
        insecure: ['-k'],
        url: 'https://localhost:4200/_sql',
      }),
    );
    expect(line('30', 'B1', 'http://localhost:4200/_sql', '')).toEqual(
      curlCommand({
        maxTimeSeconds: '30',
        writeOut: '\\nB1 %{http_code} %{size_download}\\n',
        insecure: [],
        url: 'http://localhost:4200/_sql',
      }),
    );
  });

  it('parses as the options curl reads (-w with its backslash escapes, as curl expands them)', () => {
    expect(parseCurlArgv(line('7', 'B0', 'https://localhost:4200/_sql', '-k'))).toMatchObject({
      url: 'https://localhost:4200/_sql',
      method: 'POST',
      bodyFromStdin: true,
      writeOut: '\\nB0 %{http_code} %{size_download}\\n',
      maxTimeSeconds: 7,
      insecure: true,
    });
  });

  it('a script without curl has none', () => {
    expect(scriptCurl('while read -r l; do e=$(printf x); done')).toBeNull();
  });
});
