// `schedule update` changes only what is given (issue 8 item 16): suspension, time zone, schedule, image and each
// engine flag keep their current values unless repeated; `--suspend` / `--no-suspend` alone work.
import type { V1CronJob } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { FakePluginKube, installRunnerRbac, statefulSet, testContext } from './helpers.js';

const NS = 'crate';
const NAME = 'crate-decommission-crate';

async function scheduled(extra: string[] = []): Promise<FakePluginKube> {
  const kube = new FakePluginKube();
  kube.put(statefulSet(NS, 'crate', 3));
  installRunnerRbac(kube, NS);
  const ctx = testContext({ kube });
  const code = await runCli(
    [
      'schedule',
      'create',
      'sts/crate',
      '-n',
      NS,
      '--schedule',
      '0 3 * * 0',
      '--time-zone',
      'Europe/Vienna',
      '--suspend',
      '--timeout',
      '20m',
      '--min-availability',
      'FULL',
      '--image',
      'registry.example/cd:1',
      ...extra,
    ],
    ctx,
  );
  expect(code, ctx.err.text).toBe(0);
  return kube;
}

async function cron(kube: FakePluginKube): Promise<V1CronJob> {
  const c = await kube.get<V1CronJob>({ apiVersion: 'batch/v1', kind: 'CronJob', namespace: NS, name: NAME });
  expect(c).not.toBeNull();
  return c!;
}

const container = (c: V1CronJob) => c.spec!.jobTemplate.spec!.template.spec!.containers[0]!;

async function update(kube: FakePluginKube, args: string[]) {
  const ctx = testContext({ kube });
  const code = await runCli(['schedule', 'update', 'sts/crate', '-n', NS, ...args], ctx);
  return { code, ctx };
}

describe('schedule update', () => {
  it('--schedule alone keeps the suspension, the time zone, the engine flags and the image', async () => {
    const kube = await scheduled();
    const before = await cron(kube);
    const { code, ctx } = await update(kube, ['--schedule', '0 4 * * 6']);
    expect(code, ctx.err.text).toBe(0);
    const after = await cron(kube);
    expect(after.spec?.schedule).toBe('0 4 * * 6');
    expect(after.spec?.suspend).toBe(true);
    expect(after.spec?.timeZone).toBe('Europe/Vienna');
    expect(container(after).args).toEqual(container(before).args);
    expect(container(after).args).toContain('1200s');
    expect(container(after).image).toBe('registry.example/cd:1');
    expect(ctx.out.text).toBe(`cronjob.batch/${NAME} configured\n`);
  });

  it('--no-suspend alone resumes it and changes nothing else', async () => {
    const kube = await scheduled();
    const before = await cron(kube);
    const { code, ctx } = await update(kube, ['--no-suspend']);
    expect(code, ctx.err.text).toBe(0);
    const after = await cron(kube);
    expect(after.spec?.suspend).toBe(false);
    expect({ ...after.spec, suspend: true }).toEqual(before.spec);
  });

  it('--suspend alone suspends it', async () => {
    const kube = await scheduled();
    await update(kube, ['--no-suspend']);
    const { code } = await update(kube, ['--suspend']);
    expect(code).toBe(0);
    expect((await cron(kube)).spec?.suspend).toBe(true);
  });

  it('one engine flag changes only that flag (and the deadline derived from it)', async () => {
    const kube = await scheduled();
    const { code, ctx } = await update(kube, ['--timeout', '30m']);
    expect(code, ctx.err.text).toBe(0);
    const after = await cron(kube);
    const args = container(after).args ?? [];
    expect(args[args.indexOf('--decommission-timeout') + 1]).toBe('1800s'); // --timeout is the deprecated name (issue 13)
    expect(args).not.toContain('--timeout');
    expect(args[args.indexOf('--min-availability') + 1]).toBe('FULL');
    expect(after.spec?.suspend).toBe(true);
    expect(after.spec?.timeZone).toBe('Europe/Vienna');
    expect(after.spec?.schedule).toBe('0 3 * * 0');
  });

  it('--time-zone= removes the time zone', async () => {
    const kube = await scheduled();
    expect((await update(kube, ['--time-zone='])).code).toBe(0);
    expect((await cron(kube)).spec?.timeZone).toBeUndefined();
  });

  it('keeps what others added to the CronJob (labels, annotations, history limits)', async () => {
    const kube = await scheduled();
    const c = await cron(kube);
    c.metadata!.annotations = { team: 'sre' };
    c.spec!.successfulJobsHistoryLimit = 7;
    kube.put(c);
    expect((await update(kube, ['--schedule', '0 5 * * *'])).code).toBe(0);
    const after = await cron(kube);
    expect(after.metadata?.annotations).toEqual({ team: 'sre' });
    expect(after.spec?.successfulJobsHistoryLimit).toBe(7);
  });

  it('the same values again: unchanged, nothing written', async () => {
    const kube = await scheduled();
    const writes = kube.writes.length;
    const { code, ctx } = await update(kube, ['--suspend', '--schedule', '0 3 * * 0']);
    expect(code).toBe(0);
    expect(ctx.out.text).toBe(`cronjob.batch/${NAME} unchanged\n`);
    expect(kube.writes.length).toBe(writes);
  });

  it('CRATE_DECOMMISSION_IMAGE does not replace the image of an update (only --image does)', async () => {
    const kube = await scheduled();
    const ctx = testContext({ kube });
    ctx.env = { CRATE_DECOMMISSION_IMAGE: 'other.example/cd:2' };
    expect(await runCli(['schedule', 'update', 'sts/crate', '-n', NS, '--schedule', '0 1 * * *'], ctx)).toBe(0);
    expect(container(await cron(kube)).image).toBe('registry.example/cd:1');
    expect((await update(kube, ['--image', 'other.example/cd:3'])).code).toBe(0);
    expect(container(await cron(kube)).image).toBe('other.example/cd:3');
  });

  it.each([
    ['nothing to change', [], /schedule update needs a change/],
    ['--suspend with --no-suspend', ['--suspend', '--no-suspend'], /--suspend and --no-suspend/],
  ])('%s -> exit 2, nothing written', async (_n, args, message) => {
    const kube = await scheduled();
    const writes = kube.writes.length;
    const { code, ctx } = await update(kube, args);
    expect(code).toBe(2);
    expect(ctx.err.text).toMatch(message);
    expect(kube.writes.length).toBe(writes);
  });

  it('a schedule that does not exist: exit 2, says to create it', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate', 3));
    const { code, ctx } = await update(kube, ['--schedule', '0 3 * * 0']);
    expect(code).toBe(2);
    expect(ctx.err.text).toMatch(/does not exist.*schedule create/);
  });

  it('--dry-run prints the merged CronJob and writes nothing', async () => {
    const kube = await scheduled();
    const writes = kube.writes.length;
    const { code, ctx } = await update(kube, ['--no-suspend', '--dry-run', '-o', 'json']);
    expect(code).toBe(0);
    const printed = JSON.parse(ctx.out.text) as V1CronJob;
    expect(printed.spec?.suspend).toBe(false);
    expect(printed.spec?.timeZone).toBe('Europe/Vienna');
    expect(kube.writes.length).toBe(writes);
  });
});
