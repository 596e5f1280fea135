// `rbac install|uninstall`: the runner's ServiceAccount + Role + RoleBinding (or, --cluster-wide, ClusterRole + binding).
import type { Argv } from 'yargs';
import { applyObjects, deleteObjects, rbacFor } from '../rbac.js';
import { printActions, printValue } from '../printers.js';
import type { GlobalOptions } from '../options.js';
import { validateNamespace, UsageError } from '../../shared/task/index.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { monitoringHint } from '../monitoring-hint.js';
import { declined } from '../confirm.js';

function flags(y: Argv): Argv {
  return y
    .option('cluster-wide', {
      type: 'boolean',
      default: false,
      describe: 'ClusterRole + ClusterRoleBinding: one runner for CrateDB in every namespace',
    })
    .option('service-account', {
      type: 'string',
      describe: 'Name of the runner ServiceAccount (default crate-decommission)',
    });
}

export function declareRbac(y: Argv, env: CommandEnv): Argv {
  const handler = (mode: 'install' | 'uninstall') => (argv: unknown) => {
    const a = argv as Args;
    env.select(async () => {
      const g = globals(a, env);
      const sa = a['service-account'] === undefined ? undefined : str(a['service-account']);
      if (sa !== undefined) {
        try {
          validateNamespace(sa);
        } catch {
          throw new UsageError(
            `invalid --service-account "${sa}": must be a lowercase DNS-1123 name`,
            'Pass a valid ServiceAccount name',
          );
        }
      }
      const clusterWide = a['cluster-wide'] === true;
      if (g.dryRunMode === 'client' && g.namespace !== undefined) {
        // Printing needs no cluster at all when the namespace is given.
        return printRbac(env, g, rbacFor(g.namespace, clusterWide, sa));
      }
      const conn = await env.ctx.connect(g.connect);
      const namespace = g.namespace ?? conn.namespace;
      const objects = rbacFor(namespace, clusterWide, sa);
      if (g.dryRunMode === 'client') return printRbac(env, g, objects);
      if (g.dryRunMode === 'server') {
        // Each write goes to the API server with dryRun=All: validation and admission run, nothing persists.
        const lines =
          mode === 'install'
            ? await applyObjects(conn.kube, objects, { dryRun: true })
            : await deleteObjects(conn.kube, objects, { dryRun: true });
        if (g.output === 'text') env.ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
        else printActions(env, g, lines, mode === 'install' ? objects : undefined);
        return 0;
      }
      if (mode === 'uninstall' && !g.yes) {
        const ok = await env.ctx.confirm(
          `Delete the runner's RBAC in ${namespace}${clusterWide ? ' (cluster-wide binding)' : ''}?`,
        );
        if (!ok) return declined(env.ctx.stderr);
      }
      const lines =
        mode === 'install' ? await applyObjects(conn.kube, objects) : await deleteObjects(conn.kube, objects);
      if (g.output === 'text') env.ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
      else printActions(env, g, lines, mode === 'install' ? objects : undefined);
      if (mode === 'install') env.ctx.stderr.write(monitoringHint({}));
      return 0;
    });
  };
  return y.command('rbac', "Install or uninstall the runner's ServiceAccount, Role and RoleBinding", (r) =>
    r
      .command(
        'install',
        "Create (or update) the runner's least-privilege RBAC in a namespace",
        flags,
        handler('install'),
      )
      .command('uninstall', "Delete the runner's RBAC from a namespace", flags, handler('uninstall'))
      .example('$0 rbac install -n crate', 'Let runner Jobs in namespace crate do their work')
      .example('$0 rbac install -n crate --dry-run -o yaml', 'Print the objects instead')
      .demandCommand(1, 'rbac needs a subcommand: install or uninstall'),
  );
}

async function printRbac(env: CommandEnv, g: GlobalOptions, objects: ReturnType<typeof rbacFor>): Promise<number> {
  if (g.output === 'json' || g.output === 'jsonpath')
    printValue(env.ctx.stdout, { apiVersion: 'v1', kind: 'List', items: objects }, g.output, () => '', {
      jsonpath: g.jsonpath,
    });
  else env.ctx.stdout.write((await import('../../shared/adapters/index.js')).toYaml(objects));
  return 0;
}
