// Issue 8 item 1: dc_util's -proto (default https) must be the scheme CrateDB serves on port 4200, else dc_util
// cannot connect and the node gets a plain SIGTERM. Static (manifest) and at discovery (the scheme reached).
import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { detectStrategy, servedSchemeFromManifest } from '../../../shared/detect/index.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from '../engine/helpers.js';
import { type World } from '../../support/fakes/world.js';
import { statefulSet } from './builders.js';

const PLAIN: string[] = [];
const TLS = ['-Cssl.http.enabled=true'];
const hook = (...flags: string[]) => [
  './dc_util-linux-amd64',
  '-min-availability',
  'PRIMARIES',
  '-timeout',
  '720s',
  ...flags,
];

describe('dc_util -proto against the scheme CrateDB serves (manifest)', () => {
  it.each<[string, string[], string[], string, RegExp | null]>([
    [
      'no -proto (https) vs plain HTTP',
      hook(),
      PLAIN,
      'manual',
      /posts to https:\/\/127\.0\.0\.1:4200 \(no -proto flag: dc_util's default https\), but CrateDB serves http/,
    ],
    [
      '-proto http vs HTTPS',
      hook('-proto', 'http'),
      TLS,
      'manual',
      /posts to http:\/\/127\.0\.0\.1:4200 \(-proto http\), but CrateDB serves https \(-Cssl\.http\.enabled=true\)/,
    ],
    ['--proto=http vs plain HTTP', hook('--proto=http'), PLAIN, 'kubernetes_managed', null],
    ['no -proto (https) vs HTTPS', hook(), TLS, 'kubernetes_managed', null],
    ['-proto HTTPS (any case) vs HTTPS', hook('-proto', 'HTTPS'), TLS, 'kubernetes_managed', null],
    ['-proto ftp', hook('-proto', 'ftp'), TLS, 'manual', /neither http nor https/],
    [
      '-Cssl.http.enabled=false is plain HTTP',
      hook(),
      ['-Cssl.http.enabled=false'],
      'manual',
      /CrateDB serves http \(-Cssl\.http\.enabled=false\)/,
    ],
  ])('%s -> %s', (_title, preStop, args, strategy, reason) => {
    const d = detectStrategy(statefulSet({ preStop, crate: { args } }));
    expect(d.strategy).toBe(strategy);
    if (reason) {
      expect(d.reasons.join('\n')).toMatch(reason);
      expect(d.dcUtilWillNotDecommission).toBe(true);
    }
  });

  it('a crate.yml the manifest cannot read: manual offline, decided by the reached scheme at discovery', () => {
    const crate: Partial<V1Container> = {
      args: [],
      volumeMounts: [{ name: 'config', mountPath: '/crate/config/crate.yml', subPath: 'crate.yml' }],
    };
    expect(servedSchemeFromManifest({ name: 'crate', ...crate }).scheme).toBeNull();
    const offline = detectStrategy(statefulSet({ preStop: hook(), crate }));
    expect(offline.strategy).toBe('manual');
    expect(offline.servedScheme).toBeNull();
    expect(offline.reasons.join('\n')).toContain(
      'the manifest cannot tell which scheme CrateDB serves (ssl.http.enabled is not on the command line and /crate/config/crate.yml is mounted: TLS may be set in crate.yml); decided at discovery',
    );
    const reachedHttps = detectStrategy(statefulSet({ preStop: hook(), crate }), { servedScheme: 'https' });
    expect(reachedHttps.strategy).toBe('kubernetes_managed');
    expect(reachedHttps.reasons.join('\n')).toContain('the engine reached it over https at discovery');
    const reachedHttp = detectStrategy(statefulSet({ preStop: hook(), crate }), { servedScheme: 'http' });
    expect(reachedHttp.strategy).toBe('manual');
    expect(reachedHttp.reasons.join('\n')).toMatch(
      /posts to https.*but CrateDB serves http \(the engine reached it over http at discovery/,
    );
  });
});

/** Mount a crate.yml over the config directory of every crate container (so the manifest cannot tell the scheme). */
function mountCrateYml(w: World): void {
  for (const sts of w.kube.statefulSets.values()) {
    const c = sts.spec!.template.spec!.containers.find((x) => x.name === 'crate')!;
    c.volumeMounts = [{ name: 'config', mountPath: '/crate/config' }];
  }
  for (const pod of w.kube.pods.values()) {
    const c = pod.spec!.containers.find((x) => x.name === 'crate')!;
    c.volumeMounts = [{ name: 'config', mountPath: '/crate/config' }];
  }
}

describe('discovery decides from the scheme it really reaches', () => {
  const ns = 'crate';
  const HTTPS_HOOK = './dc_util-linux-amd64 -min-availability PRIMARIES -timeout 720s';

  it('TLS in crate.yml: http fails, https answers; dc_util (https) is trusted and the engine keeps https', async () => {
    const w = await world({
      replicas: 3,
      preStop: 'dc_util',
      dcUtilCommand: HTTPS_HOOK,
      crate: { httpScheme: 'https' },
    });
    mountCrateYml(w);
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(cluster.sql.scheme).toBe('https');
    expect(cluster.statefulSets[0]!.detection).toMatchObject({
      strategy: 'kubernetes_managed',
      dcUtilProto: 'https',
      servedScheme: 'https',
    });
    expect(w.log.text()).toContain('CrateDB did not answer over http');
    expect(w.log.text()).toContain('CrateDB serves https on port 4200 (reached at discovery)');
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster, ...fastGate });
    expect(r.error).toBeNull();
    expect(r.strategyUsed).toBe('kubernetes_managed');
    expect(w.dcUtilFailures).toEqual([]);
    expect(w.crate.decommissions.map((d) => d.node)).toEqual(['data-hot-1']);
    expect(w.crate.violations).toEqual([]);
  });

  it('crate.yml without TLS: http answers; dc_util without -proto (https) cannot connect -> manual, the engine drains', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', dcUtilCommand: HTTPS_HOOK });
    mountCrateYml(w);
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(cluster.sql.scheme).toBe('http');
    const d = cluster.statefulSets[0]!.detection;
    expect(d).toMatchObject({ strategy: 'manual', dcUtilProto: 'https', servedScheme: 'http' });
    expect(d.reasons.join('\n')).toMatch(/posts to https:\/\/127\.0\.0\.1:4200 .* but CrateDB serves http/);
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster, ...fastGate });
    expect(r.error).toBeNull();
    expect(r.strategyUsed).toBe('manual');
    // The engine decommissioned the node itself: the drain happened although dc_util failed.
    expect(w.crate.writes.filter((s) => s.stmt.startsWith('ALTER CLUSTER DECOMMISSION')).map((s) => s.args[0])).toEqual(
      ['data-hot-1'],
    );
    expect(w.crate.violations).toEqual([]);
  });

  it('a plain-HTTP CrateDB and a hook without -proto, as in the repo fixtures: manual from the manifest alone', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', dcUtilCommand: HTTPS_HOOK });
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(cluster.statefulSets[0]!.detection.strategy).toBe('manual');
    expect(cluster.pods.every((p) => p.detection?.strategy === 'manual')).toBe(true);
  });
});
