// Flag values both front ends parse the same way (plugin and runner): --dry-run, namespaces, Go durations.
// Bad input -> UsageError (exit 2).
import { z } from 'zod';
import { parseDurationMs } from '../duration.js';
import { Dns1123Label } from '../schemas.js';
import { UsageError } from './exit.js';

/** kubectl's --dry-run strategies: none = a real run; client = print what would be sent; server = send it with dryRun=All. */
export const DryRunMode = z.enum(['none', 'client', 'server']);
export type DryRunMode = z.infer<typeof DryRunMode>;

const DRY_RUN_TODO = 'Use --dry-run=none, --dry-run=client or --dry-run=server';

/**
 * --dry-run as kubectl reads it: none|client|server; absent = none. kubectl's deprecated boolean forms (true,
 * false, 1, ...) and anything else are refused: on a tool that restarts databases a guess is not good enough.
 * (A boolean true/false only comes from internal callers, never from the command line.)
 */
export function parseDryRun(v: unknown): DryRunMode {
  if (v === undefined || v === null || v === false) return 'none';
  if (v === true) return 'client';
  const values = Array.isArray(v) ? v : [v];
  const modes = values.map((x) => {
    const text = String(x);
    const r = DryRunMode.safeParse(text);
    if (r.success) return r.data;
    if (/^(true|false|t|f|1|0|yes|no)$/i.test(text)) {
      throw new UsageError(
        `invalid --dry-run value "${text}": boolean values are deprecated in kubectl and not accepted here`,
        `${DRY_RUN_TODO} (true meant client, false meant none)`,
      );
    }
    throw new UsageError(`invalid --dry-run value "${text}"`, DRY_RUN_TODO);
  });
  if (new Set(modes).size > 1)
    throw new UsageError('--dry-run was given more than once with different values', 'Pass --dry-run once');
  return modes[0] ?? 'none';
}

/**
 * The bare `--dry-run` means `--dry-run=client` (kubectl's NoOptDefVal): it never takes the next word as its value,
 * so `--dry-run sts/x` keeps the target. `--dry-run server` (a strategy after a space) is refused: kubectl reads the
 * word as an argument, and guessing either way is wrong here. Nothing after `--` is touched.
 */
export function normalizeDryRunArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let flags = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (flags && a === '--') flags = false;
    if (flags && a === '--dry-run') {
      const next = args[i + 1];
      if (next !== undefined && /^(none|client|server|true|false)$/.test(next)) {
        throw new UsageError(
          `--dry-run takes its value after "=", not a space ("--dry-run ${next}")`,
          `Use --dry-run=${next === 'true' ? 'client' : next === 'false' ? 'none' : next}`,
        );
      }
      out.push('--dry-run=client');
      continue;
    }
    out.push(a);
  }
  return out;
}

export function validateNamespace(namespace: string): string {
  const r = Dns1123Label.safeParse(namespace);
  if (!r.success) {
    throw new UsageError(
      `invalid namespace "${namespace}": must be a lowercase DNS-1123 label (a-z, 0-9, '-', at most 63 characters)`,
      'Pass an existing namespace to -n',
    );
  }
  return namespace;
}

/** Bounds of a duration flag, inclusive, in seconds; `zero` allows exactly 0 below `min` (e.g. "no limit"). */
export interface DurationBounds {
  min: number;
  max: number;
  zero?: boolean;
}

/** The engine's timeouts: whole seconds (sub-second values rounded up), 1s to 24h. */
const ENGINE_TIMEOUT_BOUNDS: DurationBounds = { min: 1, max: 86_400 };
/** --request-timeout: 0 = no limit, else 1ms to 24h. */
const REQUEST_TIMEOUT_BOUNDS: DurationBounds = { min: 0.001, max: 86_400, zero: true };

function formatSeconds(s: number): string {
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  return `${s}s`;
}

/**
 * Parse a duration flag into seconds (a Go duration or a bare number of seconds: parseDurationMs of shared/duration.ts)
 * and check its bounds. Bad syntax and
 * out-of-range values are a UsageError naming the flag and the rule. `allowFraction` keeps sub-second values;
 * otherwise they are rounded up to whole seconds.
 */
export function parseDurationSeconds(
  text: string,
  flag: string,
  opts: { allowZero?: boolean; allowFraction?: boolean; bounds?: DurationBounds } = {},
): number {
  const bounds = opts.bounds ?? (opts.allowZero ? REQUEST_TIMEOUT_BOUNDS : ENGINE_TIMEOUT_BOUNDS);
  const rule = `${bounds.zero ? '0 or ' : ''}from ${formatSeconds(bounds.min)} to ${formatSeconds(bounds.max)}`;
  const ms = parseDurationMs(text);
  if (ms === null) {
    throw new UsageError(
      `invalid duration "${text}" for ${flag}`,
      `Use a Go duration such as 500ms, 90s, 15m or 1h30m (${rule})`,
    );
  }
  let seconds = ms / 1000;
  if (!opts.allowFraction) seconds = Math.ceil(seconds - 1e-9);
  const inRange = (bounds.zero && seconds === 0) || (seconds >= bounds.min && seconds <= bounds.max);
  if (!inRange) {
    throw new UsageError(
      `${flag} ${text} is out of range: it must be ${rule}`,
      `Pass e.g. ${flag} ${formatSeconds(Math.min(bounds.max, 600))}`,
    );
  }
  return seconds;
}
