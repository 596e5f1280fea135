// What a command declaration gets: the context and `select`, which hands the parsed values to the work.
import type { Argv } from 'yargs';
import type { CliContext } from '../io.js';
import { parseGlobalOptions, type GlobalOptions, type RawGlobal } from '../options.js';
import type { RawOperationArgs } from '../task.js';

/** Parsed argv as a plain record (yargs' own typing is not carried through the declarations). */
export type Args = Record<string, unknown> & RawGlobal & RawOperationArgs;

export interface CommandEnv {
  ctx: CliContext;
  /** Record the work of the command yargs matched; it runs after parsing succeeded. */
  select(work: () => Promise<number>): void;
}

export type Declare = (y: Argv, env: CommandEnv) => Argv;

/** Global flags, validated (UsageError on bad input). */
export function globals(argv: Args, env: CommandEnv): GlobalOptions {
  return parseGlobalOptions(argv, env.ctx.env);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v ?? '');
}
