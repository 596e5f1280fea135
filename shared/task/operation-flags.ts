// The engine flags of the operations as yargs declarations, declared once for the plugin and the runner, and the
// raw values yargs hands back (validated into TaskOptions by parse-task.ts).
import type { Argv } from 'yargs';
import type { Operation } from './task.js';

/** The engine flags of the operations, declared once for the plugin and the runner. */
export function declareOperationOptions<T>(y: Argv<T>, operation: Operation) {
  let out = y.option('operation-id', {
    type: 'string',
    hidden: true,
    describe: 'Identifies the run; a re-run with the same id resumes it (set by the plugin to the Job name)',
  });
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission' || operation === 'plan') {
    out = out
      .option('decommission-timeout', {
        type: 'string',
        describe: 'How long CrateDB may take to drain a node (cluster.graceful_stop.timeout); was --timeout',
        default: '720s',
        group: 'Engine:',
      })
      // Deprecated: every kubectl user reads --timeout as "how long this command waits". Still accepted, with a
      // warning on stderr; hidden from help and completion.
      .option('timeout', {
        type: 'string',
        hidden: true,
        describe: 'Deprecated alias of --decommission-timeout',
        group: 'Engine:',
      })
      .option('relocation', {
        type: 'string',
        describe:
          operation === 'decommission'
            ? 'What the drain moves off the node: primaries|full (the node leaves for good, so its data must move) [default: primaries]'
            : 'What each drain moves: auto (per pod: nothing when every primary on the node has a STARTED replica elsewhere and the cluster is GREEN, else its primaries) | primaries | full [default: auto]',
        group: 'Engine:',
      })
      .option('min-availability', {
        type: 'string',
        describe:
          'Expert: cluster.graceful_stop.min_availability for every drain, unchecked: NONE|PRIMARIES|FULL (prefer --relocation)',
        default: 'PRIMARIES',
        group: 'Engine:',
      })
      .option('allocation', {
        type: 'string',
        describe: 'cluster.routing.allocation.enable while a node restarts: primaries|new_primaries',
        default: 'primaries',
        group: 'Engine:',
      });
  }
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission' || operation === 'plan') {
    out = out
      // Declared as `no-stall-break` itself: the plugin's parser has yargs' boolean negation off (as kubectl's
      // `--no-headers`), so a `stall-break` boolean would make `--no-stall-break` an unknown flag.
      .option('no-stall-break', {
        type: 'boolean',
        describe:
          "Wait for the graceful-stop timeout as before instead of stopping a drained node that stays idle (no job, no operation in sys.jobs/sys.operations for --stall-idle; CrateDB 6.4.3's active-request counter leaks on retried reads)",
        group: 'Engine:',
      })
      .option('stall-idle', {
        type: 'string',
        default: '30s',
        describe: 'How long a drained node must be idle before the stall break',
        group: 'Engine:',
      });
  }
  out = out.option('heartbeat', {
    type: 'string',
    default: '30s',
    describe: 'Progress line interval while a wait lasts (what it waits for, its state, time left)',
    group: 'Engine:',
  });
  if (operation === 'restart' || operation === 'decommission') {
    out = out.option('skip-preflight', {
      type: 'boolean',
      describe:
        "DANGEROUS: do not check the cluster's health before touching the pod. Without the check a pod of an unhealthy (e.g. RED) cluster is drained and stopped, which can make data unavailable",
      group: 'Engine:',
    });
  }
  if (operation === 'rollout' || operation === 'restart' || operation === 'decommission') {
    out = out
      .option('pushgateway', {
        type: 'string',
        describe:
          "Push the run's metrics to this Prometheus Pushgateway (http[s]://host:9091); env CRATE_DECOMMISSION_PUSHGATEWAY",
        group: 'Metrics:',
      })
      .option('metrics-file', {
        type: 'string',
        describe: "Write the run's metrics to this file (node-exporter textfile collector, *.prom)",
        group: 'Metrics:',
      });
  }
  if (operation !== 'health' && operation !== 'decommission') {
    out = out.option('pod-ready-timeout', {
      type: 'string',
      describe: 'How long a re-created pod may take to become Ready',
      default: '600s',
      group: 'Engine:',
    });
  }
  out = out.option('health-timeout', {
    type: 'string',
    describe: 'How long the health gate waits for the cluster to recover',
    default: '900s',
    group: 'Engine:',
  });
  return out
    .option('sql-transport', {
      type: 'string',
      describe: 'How SQL reaches CrateDB: auto (http when credentials are known, else exec) | http | exec',
      group: 'SQL:',
    })
    .option('sql-user', { type: 'string', describe: 'SQL user for HTTP (needs --sql-password-secret)', group: 'SQL:' })
    .option('sql-password-secret', {
      type: 'string',
      describe: "Secret holding the SQL user's password: NAME[:KEY] (key default password)",
      group: 'SQL:',
    })
    .option('sql-scheme', {
      type: 'string',
      describe: 'http|https (default: from the CrateDB container)',
      group: 'SQL:',
    })
    .option('sql-ca-secret', {
      type: 'string',
      describe: "Secret with CrateDB's CA certificate: NAME[:KEY] (key default ca.crt)",
      group: 'SQL:',
    })
    .option('sql-insecure', { type: 'boolean', describe: "Do not verify CrateDB's TLS certificate", group: 'SQL:' });
}

export interface RawOperationArgs {
  'decommission-timeout'?: unknown;
  timeout?: unknown;
  'min-availability'?: unknown;
  relocation?: unknown;
  allocation?: unknown;
  'pod-ready-timeout'?: unknown;
  'health-timeout'?: unknown;
  'skip-preflight'?: unknown;
  'operation-id'?: unknown;
  heartbeat?: unknown;
  'no-stall-break'?: unknown;
  /** Raw input that says stall-break false (e.g. {'stall-break': false} from code) means the same. */
  'stall-break'?: unknown;
  'stall-idle'?: unknown;
  'sql-transport'?: unknown;
  'sql-user'?: unknown;
  'sql-password-secret'?: unknown;
  'sql-scheme'?: unknown;
  'sql-ca-secret'?: unknown;
  'sql-insecure'?: unknown;
  pushgateway?: unknown;
  'metrics-file'?: unknown;
}
