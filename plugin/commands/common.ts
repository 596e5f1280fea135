// What a command declaration gets: the context and `select`, which hands the parsed values to the work.
import type { CliContext } from '../io.js';
import { parseGlobalOptions, type GlobalOptions, type RawGlobal } from '../options.js';
import { deprecationWarnings, type RawOperationArgs } from '../../shared/task/index.js';

/** Parsed argv as a plain record (yargs' own typing is not carried through the declarations). */
export type Args = Record<string, unknown> & RawGlobal & RawOperationArgs;

export interface CommandEnv {
  ctx: CliContext;
  /** Record the work of the command yargs matched; it runs after parsing succeeded. */
  select(work: () => Promise<number>): void;
  /** A warning for stderr (shown once the input is known to be good). */
  warn?(text: string): void;
}

/** Global flags, validated (UsageError on bad input). */
export function globals(argv: Args, env: CommandEnv): GlobalOptions {
  const words = Array.isArray(argv._) ? (argv._ as unknown[]).map(String) : [];
  const command = words
    .slice(0, words[0] === 'jobs' || words[0] === 'schedule' || words[0] === 'rbac' ? 2 : 1)
    .join(' ');
  const g = parseGlobalOptions(argv, env.ctx.env, command);
  for (const w of deprecationWarnings(argv)) (env.warn ?? ((t: string) => env.ctx.stderr.write(`warning: ${t}\n`)))(w);
  return g;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v ?? '');
}
