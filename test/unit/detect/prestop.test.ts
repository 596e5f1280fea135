// The table of preStop forms: taken from crate-operator (create.py, dc_util's README), a common sh -c one-liner, helm-style
// charts and hand-written manifests. Each row says whether dc_util decommissions and with which flags.
import { describe, expect, it } from 'vitest';
import { detectStrategy } from '../../../shared/detect/index.js';
import { parseDcUtilFlags } from '../../../shared/detect/flags.js';
import { OPERATOR_PRESTOP, statefulSet } from './builders.js';

interface Row {
  form: string;
  command: string[];
  strategy: 'kubernetes_managed' | 'manual';
  hasDcUtil: boolean;
  /** -timeout as written, in seconds (grace unset, so it is also the effective timeout). */
  flagTimeout?: number;
  minAvailability?: 'NONE' | 'PRIMARIES' | 'FULL';
  /** A reason containing this text. */
  reason?: string;
}

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

const rows: Row[] = [
  // crate-operator
  {
    form: "crate-operator's wrapper (create.py)",
    command: OPERATOR_PRESTOP,
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
    minAvailability: 'PRIMARIES',
    reason: '|| true',
  },
  {
    form: "dc_util README's wrapper (YAML block, no --timeout)",
    command: sh(
      'ARCH=$(uname -m) &&\ncurl -sLO https://example.com/dc_util-linux-${ARCH} &&\ncurl -sLO https://example.com/dc_util-linux-${ARCH}.sha256 &&\nsha256sum -c dc_util-linux-${ARCH}.sha256 &&\nchmod +x dc_util-linux-${ARCH} &&\n./dc_util-linux-${ARCH} --min-availability PRIMARIES || true\n',
    ),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'PRIMARIES',
    reason: "dc_util's default 7200s",
  },
  {
    form: 'wrapper with $(uname -m) in the name, bash -lc',
    command: [
      'bash',
      '-lc',
      'curl -fsSLO https://x/dc_util-linux-$(uname -m) && chmod +x dc_util-linux-$(uname -m) && ./dc_util-linux-$(uname -m) --timeout 1200s || true',
    ],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 1200,
    minAvailability: 'FULL',
  },
  {
    form: 'wrapper with $ARCH and ; separators',
    command: sh('ARCH=$(uname -m); ./dc_util-linux-$ARCH -timeout 600s -min-availability PRIMARIES'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 600,
    minAvailability: 'PRIMARIES',
  },
  // direct argv
  {
    form: 'direct argv, single dashes (dc_util README)',
    command: ['./dc_util-linux-amd64', '-min-availability', 'PRIMARIES', '-timeout', '720s'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'direct argv, double dashes',
    command: ['./dc_util-linux-arm64', '--min-availability', 'FULL', '--timeout', '900s'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 900,
    minAvailability: 'FULL',
  },
  {
    form: 'direct argv, --flag=value',
    command: ['/usr/local/bin/dc_util', '--min-availability=PRIMARIES', '--timeout=15m'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 900,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'direct argv, -flag=value',
    command: ['/dc_util', '-timeout=2h', '-min-availability=NONE'],
    strategy: 'manual',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'NONE',
  },
  {
    form: 'direct argv, no flags',
    command: ['/opt/dc_util/dc_util'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'FULL',
  },
  {
    form: 'direct argv, -dry-run=false',
    command: ['./dc_util-linux-amd64', '-dry-run=false', '-timeout', '720s'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
  },
  // common and hand-written shells
  {
    form: 'a common sh -c one-liner',
    command: sh('./dc_util-linux-amd64 -min-availability PRIMARIES -timeout 720s'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'absolute path',
    command: sh('/usr/local/bin/dc_util --min-availability FULL --timeout 2h'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'FULL',
  },
  {
    form: 'quoted values',
    command: sh('./dc_util --timeout "720s" --min-availability \'PRIMARIES\''),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'lower-case min-availability',
    command: sh('./dc_util -min-availability primaries'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'exec with redirections to pid 1',
    command: sh('exec /dc_util -timeout 720s > /proc/1/fd/1 2>&1'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
  },
  {
    form: '; chain with echo around it',
    command: sh('echo stopping; /opt/dc_util/dc_util-linux-amd64 -timeout 300s; echo done'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 300,
  },
  {
    form: 'timeout from a shell variable',
    command: sh('TIMEOUT=900s\n./dc_util --timeout $TIMEOUT --min-availability PRIMARIES'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 900,
  },
  {
    form: 'if/then around it',
    command: sh('if [ -x ./dc_util ]; then ./dc_util -timeout 720s; fi'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
  },
  {
    form: 'line continuation',
    command: sh('./dc_util-linux-amd64 \\\n  --min-availability PRIMARIES \\\n  --timeout 720s'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 720,
    minAvailability: 'PRIMARIES',
  },
  {
    form: 'nested sh -c',
    command: sh("sh -c './dc_util --timeout 600s' || true"),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 600,
    reason: '|| true',
  },
  {
    form: 'positional word before the flags: Go stops parsing, defaults apply',
    command: sh('./dc_util decommission --timeout 720s'),
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'FULL',
  },
  {
    form: 'sh -c with the flags as separate argv items (they become $0, $1..)',
    command: ['/bin/sh', '-c', './dc_util-linux-amd64', '-timeout', '720s'],
    strategy: 'kubernetes_managed',
    hasDcUtil: true,
    flagTimeout: 7200,
    minAvailability: 'FULL',
    reason: 'not dc_util flags',
  },
  // present, but no decommission
  {
    form: 'dc_util only downloaded (curl URL), never run',
    command: sh('curl -sLO http://fileserver/dc_util-linux-amd64 && chmod +x dc_util-linux-amd64'),
    strategy: 'manual',
    hasDcUtil: false,
    reason: 'mentions dc_util but never runs it',
  },
  {
    form: '--dry-run',
    command: sh('./dc_util-linux-amd64 --dry-run --timeout 720s'),
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'only logs',
  },
  {
    form: '-dry-run=true',
    command: ['./dc_util', '-dry-run=true'],
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'only logs',
  },
  {
    form: '-reset-routing (postStart mode) in preStop',
    command: sh('./dc_util-linux-amd64 -reset-routing || true'),
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'reset-routing',
  },
  {
    form: 'misspelled flag: Go flag exits 2',
    command: sh('./dc_util --timout 720s || true'),
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'flag provided but not defined: -timout',
  },
  {
    form: 'flag without its value',
    command: ['./dc_util', '-timeout'],
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'flag needs an argument',
  },
  {
    form: 'invalid Go duration',
    command: ['./dc_util', '-timeout', '720'],
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'not a valid Go duration',
  },
  {
    form: 'argv exec of dc_util-linux-${ARCH}: no shell expands it',
    command: ['./dc_util-linux-${ARCH}', '--timeout', '720s'],
    strategy: 'manual',
    hasDcUtil: true,
    reason: 'without a shell',
  },
  {
    form: 'commented out',
    command: sh('# ./dc_util --timeout 720s\nsleep 5'),
    strategy: 'manual',
    hasDcUtil: false,
    reason: 'never runs it (only sleep)',
  },
  // other hooks
  {
    form: 'a sleep hook',
    command: ['sleep', '30'],
    strategy: 'manual',
    hasDcUtil: false,
    reason: 'does not decommission',
  },
  {
    form: 'a hand-written curl decommission',
    command: sh('curl -s -XPOST localhost:4200/_sql -d \'{"stmt":"alter cluster decommission ..."}\''),
    strategy: 'manual',
    hasDcUtil: false,
    reason: 'runs curl, not dc_util',
  },
  {
    form: 'a script file',
    command: ['/bin/bash', '/scripts/pre-stop.sh'],
    strategy: 'manual',
    hasDcUtil: false,
    reason: 'bash /scripts/pre-stop.sh',
  },
];

describe('preStop forms', () => {
  it.each(rows)('$form', (row) => {
    const detection = detectStrategy(statefulSet({ preStop: row.command }));
    expect(detection.strategy).toBe(row.strategy);
    expect(detection.hasPrestopHook).toBe(true);
    expect(detection.hasDcUtil).toBe(row.hasDcUtil);
    expect(detection.dcUtilWillNotDecommission).toBe(row.hasDcUtil && row.strategy === 'manual');
    expect(detection.containerName).toBe('crate');
    if (row.flagTimeout !== undefined) {
      expect(detection.dcUtilFlagTimeoutSeconds).toBe(row.flagTimeout);
      expect(detection.dcUtilTimeoutSeconds).toBe(row.flagTimeout);
    }
    if (row.minAvailability !== undefined) expect(detection.minAvailability).toBe(row.minAvailability);
    if (row.reason !== undefined) expect(detection.reasons.join('\n')).toContain(row.reason);
    if (row.strategy === 'manual') expect(detection.deleteGracePeriodSeconds).toBe(30);
    else expect(detection.deleteGracePeriodSeconds).toBe(Math.max(detection.dcUtilTimeoutSeconds + 60, 30));
  });

  it('reads flag values from the container env', () => {
    const detection = detectStrategy(
      statefulSet({
        preStop: sh('./dc_util --timeout ${DC_TIMEOUT}'),
        crate: { env: [{ name: 'DC_TIMEOUT', value: '1000s' }] },
      }),
    );
    expect(detection.dcUtilFlagTimeoutSeconds).toBe(1000);
  });

  it('a -timeout that cannot be computed while dc_util uses its flag (grace unset or 30): no grace period is known to cover it, so manual', () => {
    // dc_util may run longer than the 7200 s default (e.g. 3h in /etc/timeout): a delete with 7260 s would kill it mid-decommission.
    for (const grace of [undefined, 30]) {
      const detection = detectStrategy(
        statefulSet({
          preStop: sh('./dc_util --timeout "$(cat /etc/timeout)"'),
          ...(grace === undefined ? {} : { grace }),
        }),
      );
      expect(detection.strategy).toBe('manual');
      expect(detection.deleteGracePeriodSeconds).toBe(30);
      expect(detection.reasons.join('\n')).toContain('cannot be computed');
      expect(detection.reasons.join('\n')).toContain('no grace period is known to cover');
    }
  });

  it('a -timeout that cannot be computed does not matter when the grace period rule applies', () => {
    const detection = detectStrategy(
      statefulSet({ preStop: sh('./dc_util --timeout "$(cat /etc/timeout)"'), grace: 1200 }),
    );
    expect(detection.strategy).toBe('kubernetes_managed');
    expect(detection.dcUtilTimeoutSeconds).toBe(1080);
    expect(detection.deleteGracePeriodSeconds).toBe(1200);
  });

  it('an invalid -min-availability means NONE in CrateDB', () => {
    const detection = detectStrategy(statefulSet({ preStop: ['./dc_util', '-min-availability', 'HALF'] }));
    expect(detection.minAvailability).toBe('NONE');
    expect(detection.reasons.join('\n')).toContain('silently treats it as NONE');
  });

  it.each([
    [{ httpGet: { path: '/stop', port: 8080 } }, 'httpGet'],
    [{ sleep: { seconds: 10 } }, 'sleep'],
  ])('a non-exec hook (%j) is not dc_util', (handler, kind) => {
    const detection = detectStrategy(statefulSet({ preStop: handler }));
    expect(detection).toMatchObject({ strategy: 'manual', hasPrestopHook: true, hasDcUtil: false });
    expect(detection.reasons.join('\n')).toContain(kind);
  });
});

describe('parseDcUtilFlags (Go flag package)', () => {
  const parse = (...words: string[]) => parseDcUtilFlags(words.map((text) => ({ text, value: text })));
  it.each<[string[], Record<string, string>, string | null]>([
    [['-timeout', '720s'], { timeout: '720s' }, null],
    [['--timeout', '720s'], { timeout: '720s' }, null],
    [['-timeout=720s'], { timeout: '720s' }, null],
    [['--timeout=720s'], { timeout: '720s' }, null],
    [['-dry-run', '-timeout', '1s'], { 'dry-run': 'true', timeout: '1s' }, null],
    [['-dry-run=F'], { 'dry-run': 'false' }, null],
    [['-timeout', '1s', '--', '-dry-run'], { timeout: '1s' }, null],
    [['-timeout', '1s', 'extra', '-dry-run'], { timeout: '1s' }, null],
    [['-timeout', '--min-availability'], { timeout: '--min-availability' }, null],
    [['-pid', '1'], { pid: '1' }, null],
    [['-pid', 'one'], {}, 'invalid value'],
    [['-dry-run=maybe'], {}, 'invalid boolean'],
    [['---timeout', '1s'], {}, 'bad flag syntax'],
    [['-=x'], {}, 'bad flag syntax'],
    [['-nope'], {}, 'not defined'],
  ])('%j', (words, expected, error) => {
    const flags = parse(...words);
    expect(Object.fromEntries(flags.values)).toEqual(expected);
    if (error === null) expect(flags.error).toBeNull();
    else expect(flags.error).toContain(error);
  });

  it('-h / -help ask for usage', () => {
    expect(parse('-help').help).toBe(true);
    expect(parse('-h').help).toBe(true);
  });
});
