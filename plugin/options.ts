// Global flags (kubectl's plus output, colour, mode) and their validation with zod: bad input -> UsageError (exit 2).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { Argv } from 'yargs';
import {
  UsageError,
  type DryRunMode,
  parseDryRun,
  parseDurationSeconds,
  validateNamespace,
} from '../shared/task/index.js';
import type { KubeConfigFlags } from '../shared/adapters/index.js';
import { validateJsonPath } from './output.js';

export const OutputFormat = z.enum(['text', 'json', 'yaml', 'wide', 'name', 'jsonpath']);
export type OutputFormat = z.infer<typeof OutputFormat>;

/** Commands with a table, where kubectl's `-o wide`, `-o name` and `--no-headers` apply. */
const TABLE_COMMANDS = ['jobs list', 'schedule list', 'plan', 'health'];
const ColorMode = z.enum(['auto', 'always', 'never']);

/**
 * What loadKubeConfig (shared/adapters) needs: kubectl's global flags (shared/adapters' KubeConfigFlags), with
 * --request-timeout as kubectl takes it: "0" (no limit), "30s", "1m" or plain seconds. Validated here, parsed by
 * loadKubeConfig.
 */
export type KubeConnectOptions = Omit<KubeConfigFlags, 'requestTimeout'> & { requestTimeout?: string };

export interface GlobalOptions {
  connect: KubeConnectOptions;
  /** -n as given (undefined: the kubeconfig context's namespace). */
  namespace: string | undefined;
  output: OutputFormat;
  /** The template of `-o jsonpath=TEMPLATE`. */
  jsonpath?: string;
  /** --no-headers (table commands). */
  noHeaders: boolean;
  /** kubectl's -v=N: 4+ shows the engine's debug lines, 6+ a stack trace after an unexpected error. */
  verbosity: number;
  /** --dry-run=none|client|server (the bare flag = client). */
  dryRunMode: DryRunMode;
  /** dryRunMode is client or server: nothing may persist. */
  dryRun: boolean;
  yes: boolean;
  color: z.infer<typeof ColorMode>;
  local: boolean;
  image: string | undefined;
}

/** Declare the global flags on a yargs instance. */
export function declareGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file', group: 'Kubernetes:' })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use', group: 'Kubernetes:' })
    .option('cluster', { type: 'string', describe: 'The kubeconfig cluster to use', group: 'Kubernetes:' })
    .option('user', { type: 'string', describe: 'The kubeconfig user to use', group: 'Kubernetes:' })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace of the target', group: 'Kubernetes:' })
    .option('as', { type: 'string', describe: 'Username to impersonate', group: 'Kubernetes:' })
    .option('as-group', {
      type: 'string',
      array: true,
      describe: 'Group to impersonate (repeatable)',
      group: 'Kubernetes:',
    })
    .option('request-timeout', {
      type: 'string',
      describe: 'Time to wait for one API request (e.g. 30s, 1m; 0 = no limit)',
      group: 'Kubernetes:',
    })
    .option('insecure-skip-tls-verify', {
      type: 'boolean',
      describe: "Do not verify the API server's certificate",
      group: 'Kubernetes:',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'text|json|yaml|jsonpath=TEMPLATE; wide|name for tables (jobs list, schedule list, plan, health)',
      default: 'text',
      group: 'Output:',
    })
    .option('dry-run', {
      // A string: `--dry-run=server` carries its value; normalizeDryRunArgs makes the bare flag `--dry-run=client`.
      type: 'string',
      describe:
        'none|client|server. client (the bare flag): print what would be created; server: send it with dryRun=All (admission runs, nothing persists)',
      group: 'Output:',
    })
    .option('yes', {
      alias: 'y',
      type: 'boolean',
      describe: 'Do not ask for confirmation (non-interactive use)',
      default: false,
      group: 'Output:',
    })
    .option('color', {
      type: 'string',
      describe: 'auto|always|never (auto: on a terminal; NO_COLOR honoured)',
      default: 'auto',
      group: 'Output:',
    })
    .option('v', {
      type: 'string',
      describe: "Log verbosity as kubectl's -v=N: 4+ shows debug lines",
      group: 'Output:',
    })
    .option('local', {
      type: 'boolean',
      describe: 'Run the engine here through the API server (exec transport), no Job',
      default: false,
      group: 'Output:',
    })
    .option('image', {
      type: 'string',
      describe: 'Runner image for the Job (default: the release image)',
      group: 'Output:',
    });
}

/** Raw global flag values as yargs hands them over. */
export interface RawGlobal {
  kubeconfig?: unknown;
  context?: unknown;
  cluster?: unknown;
  user?: unknown;
  namespace?: unknown;
  as?: unknown;
  'as-group'?: unknown;
  'request-timeout'?: unknown;
  'insecure-skip-tls-verify'?: unknown;
  output?: unknown;
  'no-headers'?: unknown;
  v?: unknown;
  'dry-run'?: unknown;
  yes?: unknown;
  color?: unknown;
  local?: unknown;
  image?: unknown;
}

const ImageRef = z
  .string()
  .min(1)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, 'must be an image reference such as ghcr.io/org/image:tag');

/** Validate the global flags; every problem is a UsageError naming the flag. */
export function parseGlobalOptions(
  raw: RawGlobal,
  env: Record<string, string | undefined> = {},
  command?: string,
): GlobalOptions {
  const outputText = optionalString(raw.output, '--output') ?? 'text';
  const eq = outputText.indexOf('=');
  const formatName = eq === -1 ? outputText : outputText.slice(0, eq);
  const output = OutputFormat.safeParse(formatName);
  const tables = command === undefined || TABLE_COMMANDS.includes(command);
  const allowed = tables
    ? '-o text, json, yaml, wide, name or jsonpath=TEMPLATE'
    : '-o text, json, yaml or jsonpath=TEMPLATE';
  if (!output.success || (eq !== -1 && formatName !== 'jsonpath')) {
    throw new UsageError(`unknown output format "${outputText}"`, `Use ${allowed}`);
  }
  if ((output.data === 'wide' || output.data === 'name') && !tables) {
    throw new UsageError(
      `-o ${output.data} is for commands with a table (${TABLE_COMMANDS.join(', ')}), not ${command}`,
      `Use ${allowed}`,
    );
  }
  let jsonpath: string | undefined;
  if (output.data === 'jsonpath') {
    jsonpath = eq === -1 ? '' : outputText.slice(eq + 1);
    if (jsonpath.trim() === '')
      throw new UsageError('-o jsonpath needs a template', "Use e.g. -o jsonpath='{.success}'");
    try {
      validateJsonPath(jsonpath);
    } catch (err) {
      throw new UsageError(
        err instanceof Error ? err.message : String(err),
        "Use kubectl's JSONPath, e.g. -o jsonpath='{.items[*].name}'",
      );
    }
  }
  let verbosity = 0;
  if (raw.v !== undefined) {
    const v = optionalString(raw.v, '-v') ?? '';
    if (!/^\d+$/.test(v) || Number(v) > 10)
      throw new UsageError(`invalid -v level "${v}": must be a number from 0 to 10`, 'Pass e.g. -v=4');
    verbosity = Number(v);
  }
  const color = ColorMode.safeParse(raw.color ?? 'auto');
  if (!color.success) {
    throw new UsageError(`unknown --color value "${String(raw.color)}"`, 'Use --color auto, always or never');
  }
  const dryRunMode = parseDryRun(raw['dry-run']);
  const namespace = optionalString(raw.namespace, '--namespace');
  if (namespace !== undefined) validateNamespace(namespace);
  const kubeconfig = optionalString(raw.kubeconfig, '--kubeconfig') ?? undefined;
  if (kubeconfig !== undefined && !existsSync(kubeconfig)) {
    throw new UsageError(`kubeconfig file "${kubeconfig}" does not exist`, 'Pass an existing file to --kubeconfig');
  }
  const requestTimeout = optionalString(raw['request-timeout'], '--request-timeout');
  if (requestTimeout !== undefined)
    parseDurationSeconds(requestTimeout, '--request-timeout', { allowZero: true, allowFraction: true });
  const asGroups = stringArray(raw['as-group'], '--as-group');
  const as = optionalString(raw.as, '--as');
  if (asGroups.length > 0 && as === undefined) {
    throw new UsageError('--as-group needs --as', 'Add --as <user> to impersonate a user with those groups');
  }
  let image = optionalString(raw.image, '--image');
  image ??= env.CRATE_DECOMMISSION_IMAGE || undefined;
  if (image !== undefined) {
    const r = ImageRef.safeParse(image);
    if (!r.success)
      throw new UsageError(
        `invalid --image "${image}": ${r.error.issues[0]?.message ?? 'invalid'}`,
        'Pass a container image reference',
      );
  }
  const connect: KubeConnectOptions = {};
  if (kubeconfig !== undefined) connect.kubeconfig = kubeconfig;
  const context = optionalString(raw.context, '--context');
  if (context !== undefined) connect.context = context;
  const cluster = optionalString(raw.cluster, '--cluster');
  if (cluster !== undefined) connect.cluster = cluster;
  const user = optionalString(raw.user, '--user');
  if (user !== undefined) connect.user = user;
  if (namespace !== undefined) connect.namespace = namespace;
  if (as !== undefined) connect.as = as;
  if (asGroups.length > 0) connect.asGroups = asGroups;
  if (requestTimeout !== undefined) connect.requestTimeout = requestTimeout;
  if (raw['insecure-skip-tls-verify'] === true) connect.insecureSkipTlsVerify = true;
  return {
    connect,
    namespace,
    output: output.data,
    ...(jsonpath !== undefined ? { jsonpath } : {}),
    noHeaders: raw['no-headers'] === true,
    verbosity,
    dryRunMode,
    dryRun: dryRunMode !== 'none',
    yes: raw.yes === true,
    color: color.data,
    local: raw.local === true,
    image,
  };
}

function optionalString(v: unknown, flag: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`, `Pass ${flag} once`);
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} needs a value`, `Pass ${flag} <value>`);
  return v;
}

function stringArray(v: unknown, flag: string): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string' || x === '') throw new UsageError(`${flag} needs a value`, `Pass ${flag} <value>`);
    return x;
  });
}
