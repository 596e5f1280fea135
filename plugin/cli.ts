// The command line: yargs declarations of every command, parsed first; the selected work runs only when parsing
// succeeded. Bad input of any kind is one line `error: ... ` and exit 2, before any cluster is touched.
import yargs, { type Argv } from 'yargs';
import { VERSION, UsageError, errorLine, exitCodeForError, normalizeDryRunArgs } from '../shared/task/index.js';
import type { CliContext } from './io.js';
import { declareGlobalOptions } from './options.js';
import type { CommandEnv } from './commands/common.js';
import { declareRollout } from './commands/rollout.js';
import { declareRestart } from './commands/restart.js';
import { declareDecommission } from './commands/decommission.js';
import { declarePlan } from './commands/plan.js';
import { declareHealth } from './commands/health.js';
import { declareSchedule } from './commands/schedule.js';
import { declareRbac } from './commands/rbac.js';
import { declareJobs } from './commands/jobs.js';
import { declareVersion } from './commands/version.js';
import { declareWorker } from './commands/worker.js';
import {
  cobraAnswerWith,
  completeCommandLine,
  connectOptionsFromWords,
  declareCompletion,
  kubeResourceLister,
} from './commands/completion.js';
import { HELP_WIDTH, renderHelp } from './help.js';
import { findCommand, recordCommandTree, type CommandSpec } from './spec.js';

const SCRIPT_NAME = 'kubectl crate-decommission';

const ROOT_DESCRIBE =
  'Decommission CrateDB nodes and roll CrateDB clusters on Kubernetes, one pod at a time, without making data ' +
  'unavailable. Operations run in a Job inside the cluster (install its RBAC once with `rbac install`), or here ' +
  'with --local.';

const DECLARATIONS = [
  declareRollout,
  declareRestart,
  declareDecommission,
  declarePlan,
  declareHealth,
  declareSchedule,
  declareRbac,
  declareJobs,
  declareWorker,
  declareVersion,
  declareCompletion,
];

/** The root flags and every command, on yargs or on the recorder of plugin/spec.ts. */
function declareAll(y: Argv, env: CommandEnv): Argv {
  let out: Argv = declareGlobalOptions(y.usage(ROOT_DESCRIBE)) as unknown as Argv;
  for (const declare of DECLARATIONS) out = declare(out, env);
  return out;
}

export function buildParser(env: CommandEnv): Argv {
  const y: Argv = yargs()
    .scriptName(SCRIPT_NAME)
    .parserConfiguration({ 'strip-aliased': false, 'boolean-negation': false, 'duplicate-arguments-array': true })
    .wrap(HELP_WIDTH);
  skipYargsHelpCache(y);
  return declareAll(y, env)
    .strict()
    .demandCommand(1, 'a command is needed')
    .recommendCommands()
    .help(false)
    .option('help', { alias: 'h', type: 'boolean', describe: 'Show help', group: 'Output:' })
    .version(false)
    .option('version', { type: 'boolean', hidden: true })
    .exitProcess(false);
}

/**
 * yargs renders its own help text after every command it runs (`cacheHelpMessage`, kept for a later `showHelp()`):
 * cliui, string-width and an `Intl.Segmenter` over every flag of the command, about half of an offline `plan -f`'s
 * CPU time. The plugin never shows yargs' help (`help(false)`; plugin/help.ts renders it from the command tree), so
 * that render is switched off. The usage instance is one object for the parser's whole life (yargs resets it in place).
 */
function skipYargsHelpCache(y: Argv): void {
  const internal = (y as unknown as { getInternalMethods?: () => YargsInternals }).getInternalMethods?.();
  const usage = internal?.getUsageInstance();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}
interface YargsInternals {
  getUsageInstance(): { cacheHelpMessage?: () => void };
}

let tree: CommandSpec | null = null;
/** The command tree, recorded once from the declarations the parser uses. */
export function commandTree(): CommandSpec {
  if (!tree) {
    const noop: CommandEnv = { ctx: null as unknown as CliContext, select: () => undefined };
    tree = recordCommandTree((y) =>
      declareAll(y as Argv, noop).option('help', {
        alias: 'h',
        type: 'boolean',
        describe: 'Show help',
        group: 'Output:',
      }),
    );
    tree.describe = ROOT_DESCRIBE;
  }
  return tree;
}

/** yargs' own messages, made into `<what>. <what to do>`. */
function usageFromYargs(messages: string[], args: string[]): UsageError {
  const root = commandTree();
  const { node } = findCommand(root, args);
  const here = node.path.length > 0 ? `${SCRIPT_NAME} ${node.path.join(' ')}` : SCRIPT_NAME;
  const msg = messages.find((m) => !/^Did you mean /.test(m.trim())) ?? messages[0] ?? 'invalid arguments';
  const first = msg.split('\n')[0]?.trim() ?? msg;
  const unknown = /^Unknown (?:argument|arguments|command)s?: (.+)$/.exec(first);
  if (unknown) {
    const word = unknown[1]?.split(', ')[0] ?? '';
    const flag = args.find((a) => a === `--${word}` || a.startsWith(`--${word}=`) || a === `-${word}`);
    if (flag) return new UsageError(`unknown flag ${flag.split('=')[0]}`, `Run ${here} --help for its flags`);
    // "Did you mean" only among the subcommands of the command that was being typed.
    const children = node.children.filter((c) => !c.hidden).map((c) => c.name);
    const suggestion = children.length > 0 ? closest(word, children) : undefined;
    if (suggestion)
      return new UsageError(
        `unknown command "${word}"`,
        `Did you mean ${here} ${suggestion}? Run ${here} --help for the commands`,
      );
    if (children.length > 0) return new UsageError(`unknown command "${word}"`, `Run ${here} --help for the commands`);
    return new UsageError(`unknown command or argument "${word}"`, `Run ${here} --help for its arguments`);
  }
  const missing = /^Not enough non-option arguments: got (\d+), need at least \d+$/.exec(first);
  if (missing) {
    const children = node.children.filter((c) => !c.hidden);
    if (children.length > 0) {
      return new UsageError(
        `${node.path.join(' ')} needs a subcommand: ${children.map((c) => c.name).join(', ')}`,
        `Run ${here} --help`,
      );
    }
    const p = node.positionals.filter((x) => x.required)[Number(missing[1])];
    if (p) {
      const what = p.describe ? ` (${p.describe})` : '';
      return new UsageError(
        `${node.path.join(' ')} needs the argument <${p.name}>${what}`,
        `Run ${here} --help for examples`,
      );
    }
    return new UsageError('a required argument is missing', `Run ${here} --help for its arguments`);
  }
  const noValue = /^Not enough arguments following: (.+)$/.exec(first);
  if (noValue) return new UsageError(`--${noValue[1]} needs a value`, `Pass --${noValue[1]} <value>`);
  return new UsageError(first, `Run ${here} --help for usage`);
}

/** The candidate nearest to `word` (edit distance), when it is near enough to be what was meant. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const prefix = candidates.filter((c) => c.startsWith(word) && word.length > 0);
  if (prefix.length === 1) return prefix[0];
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Short flags that take a value, which kubectl also accepts attached: -oyaml, -o=json, -ncrate, -ffile. */
const ATTACHED_VALUE_FLAGS = new Set(['o', 'n', 'f']);

/**
 * kubectl's spellings yargs does not read, made into ones it does (before `--` only): `-oyaml`/`-o=yaml` -> `-o yaml`;
 * `-v=N`, `-vN`, `-v N`, `--v N` -> `--v=N` (kubectl's log verbosity). A bare `-v` is bad input, as in kubectl.
 */
export function normalizeArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const v = /^--?v(?:=(.*)|(\d+))?$/.exec(a);
    if (v) {
      let level = v[1] ?? v[2];
      if ((level === undefined || level === '') && /^\d+$/.test(args[i + 1] ?? '')) level = args[++i];
      if (level === undefined || level === '') {
        throw new UsageError(
          '-v needs a level: -v=N sets the log verbosity (0-10) as in kubectl',
          `Pass e.g. -v=4; the version is ${SCRIPT_NAME} version`,
        );
      }
      out.push(`--v=${level}`);
      continue;
    }
    const m = /^-([a-zA-Z])(=?)(.+)$/.exec(a);
    if (m && ATTACHED_VALUE_FLAGS.has(m[1] ?? '')) {
      out.push(`-${m[1]}`, m[3] ?? '');
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Is help asked for, and of which command? `--help`/`-h` anywhere before `--`, `help [command...]`, or nothing at all. */
function helpRequest(args: string[]): CommandSpec | null {
  const root = commandTree();
  const words = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (words.length === 0) return root;
  if (words[0] === 'help') return findCommand(root, words.slice(1)).node;
  if (words.some((w) => w === '--help' || w === '-h')) return findCommand(root, words).node;
  return null;
}

/** Parse and run. Returns the exit code; never throws. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let args = argv;
  let work: (() => Promise<number>) | null = null;
  const failures: string[] = [];
  // Warnings (deprecated flags) wait until the input is known to be good: bad input stays ONE line. They are
  // printed when the command connects, or when it ends without connecting.
  const warnings: string[] = [];
  const flush = () => {
    for (const w of warnings.splice(0)) ctx.stderr.write(`warning: ${w}\n`);
  };
  const commandCtx: CliContext = {
    ...ctx,
    connect: async (opts) => {
      flush();
      return ctx.connect(opts);
    },
  };
  const env: CommandEnv = { ctx: commandCtx, select: (w) => void (work = w), warn: (w) => void warnings.push(w) };
  if (args[0] === '__complete') {
    // kubectl_complete-crate_decommission: answer in kubectl's completion protocol, never fail. Resource names
    // come from the API server (bounded by a short timeout; nothing on any failure).
    const words = args.slice(1);
    try {
      const { candidates, directive } = await completeCommandLine(
        words,
        kubeResourceLister(ctx, connectOptionsFromWords(words)),
      );
      ctx.stdout.write(cobraAnswerWith(candidates, directive));
    } catch {
      ctx.stdout.write(cobraAnswerWith([], 4));
    }
    return 0;
  }
  try {
    args = normalizeArgs(args);
  } catch (err) {
    ctx.stderr.write(`${errorLine(err)}\n`);
    return 2;
  }
  const help = helpRequest(args);
  if (help) {
    ctx.stdout.write(renderHelp(commandTree(), help));
    return 0;
  }
  if ((args.includes('--') ? args.slice(0, args.indexOf('--')) : args).includes('--version')) {
    ctx.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let output = '';
  try {
    args = normalizeDryRunArgs(args);
  } catch (err) {
    ctx.stderr.write(`${errorLine(err)}\n`);
    return 2;
  }
  try {
    const parser = buildParser(env).fail((msg, err) => {
      failures.push(msg ?? err?.message ?? 'invalid arguments');
    });
    await parser.parse(args, {}, (_err, _argv, out) => {
      output = out;
    });
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
  }
  if (failures.length > 0) {
    ctx.stderr.write(`${errorLine(usageFromYargs(failures, args))}\n`);
    return 2;
  }
  if (output) ctx.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  const selected = work as (() => Promise<number>) | null;
  if (!selected) return 0; // --help, --version, completion output
  try {
    const code = await selected();
    flush();
    return code;
  } catch (err) {
    ctx.stderr.write(`${errorLine(err)}\n`);
    const verbose = args.some((a) => /^--v=(\d+)$/.test(a) && Number(a.slice(4)) >= 6);
    if ((ctx.env.CRATE_DECOMMISSION_DEBUG || verbose) && err instanceof Error && err.stack)
      ctx.stderr.write(`${err.stack}\n`);
    return exitCodeForError(err);
  }
}
