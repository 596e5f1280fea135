// `version [-o json|yaml]`: what is running and what it would start - plugin and engine version, Node, the build's
// git commit, and the runner image a Job would use (--image, else $CRATE_DECOMMISSION_IMAGE, else the release's).
import type { Argv } from 'yargs';
import { DEFAULT_IMAGE } from '../objects.js';
import { VERSION } from '../../shared/task/index.js';
import { printValue } from '../printers.js';
import { globals, type Args, type CommandEnv } from './common.js';

declare const __BUILD_COMMIT__: string | undefined;

interface VersionInfo {
  plugin: string;
  /** The engine (shared/) ships in the same release as the plugin and the runner image. */
  engine: string;
  node: string;
  commit: string;
  runnerImage: string;
  /** Where runnerImage comes from: the --image flag, $CRATE_DECOMMISSION_IMAGE, or the release default. */
  runnerImageSource: 'flag' | 'env' | 'default';
}

/** Set by esbuild (scripts/build-options.mjs buildDefines); "unknown" when run from the sources. */
function buildCommit(): string {
  return typeof __BUILD_COMMIT__ === 'string' && __BUILD_COMMIT__ !== '' ? __BUILD_COMMIT__ : 'unknown';
}

function versionInfo(
  image: string | undefined,
  raw: { image?: unknown },
  env: Record<string, string | undefined>,
): VersionInfo {
  const source: VersionInfo['runnerImageSource'] =
    raw.image !== undefined ? 'flag' : env.CRATE_DECOMMISSION_IMAGE ? 'env' : 'default';
  return {
    plugin: VERSION,
    engine: VERSION,
    node: process.version,
    commit: buildCommit(),
    runnerImage: image ?? DEFAULT_IMAGE,
    runnerImageSource: source,
  };
}

export function declareVersion(y: Argv, env: CommandEnv): Argv {
  return y.command(
    'version',
    'Print the plugin, engine and Node versions, the build commit and the runner image a Job would use',
    (b) => b.example('$0 version -o json', 'The same as JSON'),
    (argv) => {
      const a = argv as unknown as Args;
      env.select(async () => {
        const g = globals(a, env);
        const info = versionInfo(g.image, a, env.ctx.env);
        const fmt = g.output === 'json' || g.output === 'yaml' ? g.output : 'text';
        printValue(env.ctx.stdout, info, fmt, () =>
          [
            `Plugin version:  ${info.plugin}`,
            `Engine version:  ${info.engine}`,
            `Node version:    ${info.node}`,
            `Build commit:    ${info.commit}`,
            `Runner image:    ${info.runnerImage}${info.runnerImageSource === 'default' ? '' : info.runnerImageSource === 'flag' ? ' (--image)' : ' ($CRATE_DECOMMISSION_IMAGE)'}`,
          ].join('\n'),
        );
        return 0;
      });
    },
  );
}
