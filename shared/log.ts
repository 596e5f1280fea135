// Loggers: text lines for people ("INFO: <message>"), JSON lines for machines
// ({ts, level, msg, ...fields}); secrets are redacted from both.
import type { LogFields, Logger, LogLevel } from './ports.js';

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  format?: LogFormat;
  /** Lowest level written (default info). */
  level?: LogLevel;
  /** Where a finished line goes (without trailing newline handling: each call is one line). */
  write?: (line: string) => void;
  /** Timestamps for JSON lines (default Date.now). */
  now?: () => number;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /pass(word|wd)?|secret|token|authorization|credential|api[-_]?key|bearer/i;
const REDACTED = '[REDACTED]';

/** Remove anything that looks like a credential from a text. */
export function redactText(text: string): string {
  return text
    .replace(
      /\b(Authorization\s*[:=]\s*)(Basic|Bearer)?\s*[^\s,;"']+/gi,
      (_m, p1: string, p2?: string) => `${p1}${p2 ? `${p2} ` : ''}${REDACTED}`,
    )
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g, `$1 ${REDACTED}`)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${REDACTED}@`)
    .replace(/\b((?:pass(?:word|wd)?|secret|token|api[-_]?key)["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi, `$1${REDACTED}`);
}

/** Deep-copy fields with secret-looking keys replaced and strings scrubbed. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        SECRET_KEY.test(k) && v !== null && v !== undefined && typeof v !== 'boolean'
          ? REDACTED
          : redactFields(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** A Logger whose debug/info/warn/error all go to `log`. */
export function loggerOf(log: Logger['log']): Logger {
  return {
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'text';
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const msg = redactText(message);
    const safe = fields ? (redactFields(fields) as LogFields) : undefined;
    if (format === 'json') {
      // Fields never override the line's own keys.
      write(JSON.stringify({ ...safe, ts: new Date(now()).toISOString(), level, msg }));
      return;
    }
    write(`${level.toUpperCase()}: ${msg}`);
  };
  return loggerOf(log);
}

/**
 * A logger adding fields to every line (e.g. {pod, step} for the plugin's per-pod progress);
 * `fields` may be a function read at each call, so a step can change as the work goes on.
 */
export function withFields(base: Logger, fields: LogFields | (() => LogFields)): Logger {
  const current = typeof fields === 'function' ? fields : () => fields;
  const log = (level: LogLevel, message: string, extra?: LogFields) =>
    base.log(level, message, { ...current(), ...extra });
  return loggerOf(log);
}
