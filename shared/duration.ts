// Go durations (time.ParseDuration), the one parser for every duration in the tool: dc_util's -timeout flag
// (shared/detect), the front ends' duration flags (--timeout, --health-timeout, ...) and kubectl's
// --request-timeout (shared/adapters/kubeconfig.ts). Each caller adds only its own rounding and its own extras
// (a bare number of seconds, bounds).

const GO_UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const GO_MAX_DURATION_NANOS = (1n << 63n) - 1n;
const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Parse a Go duration ("720s", "15m", "1h30m", "1.5h", "-5s") into nanoseconds; null when invalid. Follows
 * time.ParseDuration: optional sign, one or more `<decimal><unit>` terms, units ns/us/µs/ms/s/m/h (case-sensitive:
 * "720S" is invalid), a bare "0" is the only number without a unit, and more than 2^63-1 ns is invalid.
 */
function parseGoDurationNanos(text: string): bigint | null {
  return goDurationNanos(text, true);
}

/** The scan of parseGoDurationNanos; `capped` = null beyond Go's range (else the exact value, however large). */
function goDurationNanos(text: string, capped: boolean): bigint | null {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return null;
  let totalNanos = 0n;
  while (rest !== '') {
    const term = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const intDigits = term?.[1] ?? '';
    const fracDigits = term?.[2] ?? '';
    const hasDot = term?.[0].includes('.') ?? false;
    if (intDigits === '' && fracDigits === '') return null; // Go: neither digits before nor after the dot
    rest = rest.slice(term?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]+/.exec(rest);
    if (!unitMatch) return null; // missing unit
    const unit = GO_UNIT_NANOS[unitMatch[0]];
    if (unit === undefined) return null; // unknown unit
    rest = rest.slice(unitMatch[0].length);
    let nanos = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (hasDot && fracDigits !== '') {
      nanos += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    totalNanos += nanos;
    if (capped && totalNanos > GO_MAX_DURATION_NANOS) return null; // Go: "invalid duration" on overflow
  }
  return negative ? -totalNanos : totalNanos;
}

/**
 * A Go duration in whole seconds, sub-second remainders rounded up (300ms -> 1) so a timeout is never shortened;
 * a negative duration gives negative seconds (rounded towards zero). Null when invalid.
 */
export function parseGoDurationSeconds(text: string): number | null {
  const nanos = parseGoDurationNanos(text);
  if (nanos === null) return null;
  const magnitude = nanos < 0n ? -nanos : nanos;
  const seconds = Number((magnitude + NANOS_PER_SECOND - 1n) / NANOS_PER_SECOND);
  return nanos < 0n ? (seconds === 0 ? 0 : -seconds) : seconds;
}

/**
 * A Go duration, or a bare number of seconds ("720", "1.5", as kubectl's --request-timeout takes it), in
 * milliseconds (fractions kept); null when it is neither. Surrounding blanks are ignored. Beyond Go's range
 * (2^63-1 ns, about 292 years) it is a valid duration too long for any bound: its exact value, which the callers'
 * bounds refuse as out of range.
 */
export function parseDurationMs(text: string): number | null {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const nanos = goDurationNanos(t, false);
  return nanos === null ? null : Number(nanos) / 1e6;
}
