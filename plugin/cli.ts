// The command line: yargs declarations of every command, parsed first; the selected work runs only when parsing
// succeeded. Bad input of any kind is one line `error: ... ` and exit 2, before any cluster is touched.
import yargs, { type Argv } from 'yargs';
import { VERSION } from './objects.js';
import { UsageError, errorLine, exitCodeForError } from './exit.js';
import type { CliContext } from './io.js';
import { declareGlobalOptions, normalizeDryRunArgs } from './options.js';
import type { CommandEnv } from './commands/common.js';
import { declareRollout } from './commands/rollout.js';
import { declareRestart } from './commands/restart.js';
import { declareDecommission } from './commands/decommission.js';
import { declarePlan } from './commands/plan.js';
import { declareHealth } from './commands/health.js';
import { declareSchedule } from './commands/schedule.js';
import { declareRbac } from './commands/rbac.js';
import { declareJobs } from './commands/jobs.js';
import { declareWorker } from './commands/worker.js';
import { cobraAnswerWith, completeCommandLine, connectOptionsFromWords, declareCompletion, kubeResourceLister } from './commands/completion.js';

export const SCRIPT_NAME = 'kubectl crate-decommission';

export function buildParser(env: CommandEnv): Argv {
  let y: Argv = yargs()
    .scriptName(SCRIPT_NAME)
    .usage(
      `${SCRIPT_NAME} <command> [flags]\n\n` +
        'Decommission CrateDB nodes and roll CrateDB clusters on Kubernetes, one pod at a time, without making data unavailable.\n' +
        'Operations run in a Job inside the cluster (install its RBAC once with `rbac install`), or here with --local.',
    )
    .parserConfiguration({ 'strip-aliased': false, 'boolean-negation': false, 'duplicate-arguments-array': true })
    .wrap(Math.min(120, process.stdout.columns ?? 100));
  y = declareGlobalOptions(y) as unknown as Argv;
  for (const declare of [declareRollout, declareRestart, declareDecommission, declarePlan, declareHealth, declareSchedule, declareRbac, declareJobs, declareWorker, declareCompletion]) {
    y = declare(y, env);
  }
  return y
    .strict()
    .demandCommand(1, 'a command is needed')
    .recommendCommands()
    .help('help')
    .alias('help', 'h')
    .version('version', 'Show the version', VERSION)
    .epilog('Exit codes: 0 success, 1 failed, 2 bad input, 3 refused (unhealthy), 4 timed out, 5 locked by another run. Docs: docs/cli.md')
    .exitProcess(false);
}

/** yargs' own messages, made into `<what>. <what to do>`. */
function usageFromYargs(messages: string[], args: string[]): UsageError {
  const suggestion = messages.map((m) => /^Did you mean (.+)\?$/.exec(m.trim())?.[1]).find((x) => x !== undefined);
  const msg = messages.find((m) => !/^Did you mean /.test(m.trim())) ?? messages[0] ?? 'invalid arguments';
  const first = msg.split('\n')[0]?.trim() ?? msg;
  if (suggestion && /^Unknown (argument|arguments|command)/.test(first)) {
    const what = first.replace(/^Unknown (?:argument|arguments|command)s?: /, '').split(', ')[0] ?? '';
    return new UsageError(`unknown command "${what}"`, `Did you mean ${SCRIPT_NAME} ${suggestion}? Run ${SCRIPT_NAME} --help for the commands`);
  }
  const unknown = /^Unknown (?:argument|arguments|command)s?: (.+)$/.exec(first);
  if (unknown) {
    const word = unknown[1]?.split(', ')[0] ?? '';
    const flag = args.find((a) => a === `--${word}` || a.startsWith(`--${word}=`) || a === `-${word}`);
    if (flag) return new UsageError(`unknown flag ${flag.split('=')[0]}`, `Run ${SCRIPT_NAME} <command> --help for its flags`);
    return new UsageError(`unknown command or argument "${word}"`, `Run ${SCRIPT_NAME} --help for the commands`);
  }
  const missing = /^Not enough non-option arguments: got \d+, need at least \d+$/.exec(first);
  if (missing) return new UsageError('a required argument is missing', `Run ${SCRIPT_NAME} <command> --help for its arguments`);
  const noValue = /^Not enough arguments following: (.+)$/.exec(first);
  if (noValue) return new UsageError(`--${noValue[1]} needs a value`, `Pass --${noValue[1]} <value>`);
  return new UsageError(first, `Run ${SCRIPT_NAME} --help for usage`);
}

/** Parse and run. Returns the exit code; never throws. */
export async function runCli(args: string[], ctx: CliContext): Promise<number> {
  let work: (() => Promise<number>) | null = null;
  const failures: string[] = [];
  const env: CommandEnv = { ctx, select: (w) => void (work = w) };
  if (args[0] === '__complete') {
    // kubectl_complete-crate_decommission: answer in kubectl's completion protocol, never fail. Resource names
    // come from the API server (bounded by a short timeout; nothing on any failure).
    const words = args.slice(1);
    try {
      const { candidates, directive } = await completeCommandLine(words, kubeResourceLister(ctx, connectOptionsFromWords(words)));
      ctx.stdout.write(cobraAnswerWith(candidates, directive));
    } catch {
      ctx.stdout.write(cobraAnswerWith([], 4));
    }
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
    return await selected();
  } catch (err) {
    ctx.stderr.write(`${errorLine(err)}\n`);
    if (ctx.env.CRATE_DECOMMISSION_DEBUG && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
    return exitCodeForError(err);
  }
}
